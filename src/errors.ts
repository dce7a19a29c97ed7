/**
 * Every error code Reel can emit, with its HTTP status and its nature. `permanent`: the same request
 * (or the same media) will fail the same way however often it is retried — bad input, not bad luck.
 * Callers ask `error.permanent`, never the status. Tests assert on the codes.
 */
export const ERROR_CATALOGUE = {
  VALIDATION_FAILED: { status: 400, permanent: true },
  BAD_REQUEST: { status: 400, permanent: true },
  REQUEST_ABORTED: { status: 400, permanent: false },
  AUTH_REQUIRED: { status: 401, permanent: false },
  AUTH_INVALID: { status: 401, permanent: false },
  FORBIDDEN: { status: 403, permanent: false },
  NOT_FOUND: { status: 404, permanent: false },
  PAYLOAD_TOO_LARGE: { status: 413, permanent: true },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, permanent: true },
  RATE_LIMITED: { status: 429, permanent: false },
  INTERNAL_ERROR: { status: 500, permanent: false },

  UPLOAD_NOT_FOUND: { status: 404, permanent: false },
  UPLOAD_EXPIRED: { status: 410, permanent: false },
  UPLOAD_NOT_ACTIVE: { status: 409, permanent: false },
  UPLOAD_TOO_LARGE: { status: 413, permanent: true },
  UPLOAD_TOO_SMALL: { status: 422, permanent: true },
  UPLOAD_TYPE_NOT_ALLOWED: { status: 415, permanent: true },
  UPLOAD_CHUNK_SIZE_INVALID: { status: 422, permanent: true },
  UPLOAD_CHUNK_INDEX_OUT_OF_RANGE: { status: 422, permanent: true },
  UPLOAD_CHUNK_DIGEST_MISSING: { status: 400, permanent: true },
  UPLOAD_CHUNK_DIGEST_MISMATCH: { status: 422, permanent: true },
  UPLOAD_CHUNK_CONFLICT: { status: 409, permanent: false },
  UPLOAD_CHUNK_IN_PROGRESS: { status: 409, permanent: false },
  UPLOAD_CHUNK_TIMEOUT: { status: 408, permanent: false },
  UPLOAD_INCOMPLETE: { status: 409, permanent: false },
  UPLOAD_FILE_DIGEST_MISMATCH: { status: 422, permanent: true },
  UPLOAD_TOKEN_ALREADY_USED: { status: 403, permanent: false },
  UPLOAD_COMPLETION_IN_PROGRESS: { status: 409, permanent: false },
  UPLOAD_TOO_MANY_SESSIONS: { status: 429, permanent: false },
  UPLOAD_QUOTA_EXCEEDED: { status: 413, permanent: false },
  UPLOAD_STORAGE_FULL: { status: 507, permanent: false },

  MEDIA_UNREADABLE: { status: 422, permanent: true },
  MEDIA_NO_VIDEO_STREAM: { status: 422, permanent: true },
  MEDIA_ZERO_DURATION: { status: 422, permanent: true },
  MEDIA_TOO_LONG: { status: 422, permanent: true },
  MEDIA_RESOLUTION_TOO_HIGH: { status: 422, permanent: true },
  MEDIA_UNSUPPORTED: { status: 422, permanent: true },

  VIDEO_NOT_FOUND: { status: 404, permanent: false },
  VIDEO_DELETED: { status: 410, permanent: false },
  VIDEO_BUSY: { status: 409, permanent: false },
  VIDEO_TAGS_INVALID: { status: 400, permanent: true },
  VIDEO_CATEGORY_UNKNOWN: { status: 400, permanent: true },
  VIDEO_LANGUAGE_INVALID: { status: 400, permanent: true },
  LIST_CURSOR_INVALID: { status: 400, permanent: true },
  SEARCH_QUERY_TOO_LONG: { status: 400, permanent: true },
  PROCESSING_FAILED: { status: 500, permanent: false },
  API_KEY_NOT_FOUND: { status: 404, permanent: false },

  MEDIA_NOT_FOUND: { status: 404, permanent: false },
  MEDIA_SIGNATURE_INVALID: { status: 403, permanent: false },
  MEDIA_SIGNATURE_EXPIRED: { status: 403, permanent: false },
  RANGE_NOT_SATISFIABLE: { status: 416, permanent: false },

  BEACON_TOO_MANY_EVENTS: { status: 400, permanent: true },
  BEACON_TIME_OUT_OF_RANGE: { status: 400, permanent: true },
  BEACON_OUT_OF_ORDER: { status: 400, permanent: true },
  BEACON_WATCHED_IMPLAUSIBLE: { status: 400, permanent: true },
  BEACON_TOKEN_INVALID: { status: 403, permanent: false },
  VIEWS_BACKLOG_FULL: { status: 503, permanent: false },
} as const satisfies Record<string, { status: number; permanent: boolean }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
type Details = Record<string, unknown>;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

/** The one error type of Reel: a catalogued code, its HTTP status, a message a person can act on. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly permanent: boolean;
  readonly details: Details | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, details?: Details, headers?: Record<string, string>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.httpStatus = ERROR_CATALOGUE[code].status;
    this.permanent = ERROR_CATALOGUE[code].permanent;
    this.details = details;
    this.headers = headers;
  }
}

const make =
  (code: ErrorCode) =>
  (message: string, details?: Details): AppError =>
    new AppError(code, message, details);
/** An error that tells the client when to ask again (Retry-After, seconds). */
const makeRetryable =
  (code: ErrorCode) =>
  (retryAfterSeconds: number, message: string, details?: Details): AppError =>
    new AppError(
      code,
      message,
      { ...details, retryAfterSeconds },
      { 'retry-after': String(retryAfterSeconds) },
    );

/** Constructors for the codes, by what happened. */
export const errors = {
  validation: make('VALIDATION_FAILED'),
  badRequest: make('BAD_REQUEST'),
  payloadTooLarge: make('PAYLOAD_TOO_LARGE'),
  unsupportedMediaType: make('UNSUPPORTED_MEDIA_TYPE'),
  authRequired: make('AUTH_REQUIRED'),
  authInvalid: make('AUTH_INVALID'),
  forbidden: make('FORBIDDEN'),
  notFound: make('NOT_FOUND'),
  rateLimited: (retryAfterSeconds: number) =>
    makeRetryable('RATE_LIMITED')(retryAfterSeconds, `Too many requests; retry in ${retryAfterSeconds} s`),
  internal: make('INTERNAL_ERROR'),

  uploadNotFound: make('UPLOAD_NOT_FOUND'),
  uploadExpired: make('UPLOAD_EXPIRED'),
  uploadNotActive: make('UPLOAD_NOT_ACTIVE'),
  uploadTooLarge: make('UPLOAD_TOO_LARGE'),
  uploadTooSmall: make('UPLOAD_TOO_SMALL'),
  uploadTypeNotAllowed: make('UPLOAD_TYPE_NOT_ALLOWED'),
  uploadChunkSizeInvalid: make('UPLOAD_CHUNK_SIZE_INVALID'),
  uploadChunkIndexOutOfRange: make('UPLOAD_CHUNK_INDEX_OUT_OF_RANGE'),
  uploadChunkDigestMissing: make('UPLOAD_CHUNK_DIGEST_MISSING'),
  uploadChunkDigestMismatch: make('UPLOAD_CHUNK_DIGEST_MISMATCH'),
  uploadChunkConflict: make('UPLOAD_CHUNK_CONFLICT'),
  uploadIncomplete: make('UPLOAD_INCOMPLETE'),
  uploadFileDigestMismatch: make('UPLOAD_FILE_DIGEST_MISMATCH'),
  uploadTokenUsed: make('UPLOAD_TOKEN_ALREADY_USED'),
  uploadChunkInProgress: makeRetryable('UPLOAD_CHUNK_IN_PROGRESS'),
  uploadChunkTimeout: make('UPLOAD_CHUNK_TIMEOUT'),
  uploadCompletionInProgress: makeRetryable('UPLOAD_COMPLETION_IN_PROGRESS'),
  uploadTooManySessions: make('UPLOAD_TOO_MANY_SESSIONS'),
  uploadQuotaExceeded: make('UPLOAD_QUOTA_EXCEEDED'),
  uploadStorageFull: make('UPLOAD_STORAGE_FULL'),
  requestAborted: make('REQUEST_ABORTED'),

  mediaUnreadable: make('MEDIA_UNREADABLE'),
  mediaNoVideoStream: make('MEDIA_NO_VIDEO_STREAM'),
  mediaZeroDuration: make('MEDIA_ZERO_DURATION'),
  mediaTooLong: make('MEDIA_TOO_LONG'),
  mediaResolutionTooHigh: make('MEDIA_RESOLUTION_TOO_HIGH'),
  mediaUnsupported: make('MEDIA_UNSUPPORTED'),

  videoNotFound: make('VIDEO_NOT_FOUND'),
  videoDeleted: make('VIDEO_DELETED'),
  videoBusy: make('VIDEO_BUSY'),
  videoTagsInvalid: make('VIDEO_TAGS_INVALID'),
  videoCategoryUnknown: make('VIDEO_CATEGORY_UNKNOWN'),
  videoLanguageInvalid: make('VIDEO_LANGUAGE_INVALID'),
  listCursorInvalid: make('LIST_CURSOR_INVALID'),
  searchQueryTooLong: make('SEARCH_QUERY_TOO_LONG'),
  processingFailed: make('PROCESSING_FAILED'),
  keyNotFound: make('API_KEY_NOT_FOUND'),

  mediaNotFound: make('MEDIA_NOT_FOUND'),
  mediaSignatureInvalid: make('MEDIA_SIGNATURE_INVALID'),
  mediaSignatureExpired: make('MEDIA_SIGNATURE_EXPIRED'),

  beaconTooManyEvents: make('BEACON_TOO_MANY_EVENTS'),
  beaconTimeOutOfRange: make('BEACON_TIME_OUT_OF_RANGE'),
  beaconOutOfOrder: make('BEACON_OUT_OF_ORDER'),
  beaconWatchedImplausible: make('BEACON_WATCHED_IMPLAUSIBLE'),
  beaconTokenInvalid: make('BEACON_TOKEN_INVALID'),
  viewsBacklogFull: makeRetryable('VIEWS_BACKLOG_FULL'),
  rangeNotSatisfiable: (size: number) =>
    new AppError(
      'RANGE_NOT_SATISFIABLE',
      `The requested range is outside the file (${size} bytes)`,
      { size },
      { 'content-range': `bytes */${size}` },
    ),
} as const;
