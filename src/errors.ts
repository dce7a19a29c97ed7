/** The one error type of Reel: a stable code, an HTTP status, a message a person can act on. */
export class AppError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: string,
    httpStatus: number,
    message: string,
    details?: Record<string, unknown>,
    headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.httpStatus = httpStatus;
    this.details = details;
    this.headers = headers;
  }
}

type Details = Record<string, unknown>;
const make =
  (code: string, status: number) =>
  (message: string, details?: Details): AppError =>
    new AppError(code, status, message, details);
/** An error that tells the client when to ask again (Retry-After, seconds). */
const makeRetryable =
  (code: string, status: number) =>
  (retryAfterSeconds: number, message: string, details?: Details): AppError =>
    new AppError(
      code,
      status,
      message,
      { ...details, retryAfterSeconds },
      { 'retry-after': String(retryAfterSeconds) },
    );

/** Every error code Reel returns, with its HTTP status. Tests assert on these codes. */
export const errors = {
  validation: make('VALIDATION_FAILED', 400),
  authRequired: make('AUTH_REQUIRED', 401),
  authInvalid: make('AUTH_INVALID', 401),
  forbidden: make('FORBIDDEN', 403),
  notFound: make('NOT_FOUND', 404),
  rateLimited: (retryAfterSeconds: number) =>
    makeRetryable('RATE_LIMITED', 429)(
      retryAfterSeconds,
      `Too many requests; retry in ${retryAfterSeconds} s`,
    ),
  internal: make('INTERNAL_ERROR', 500),

  uploadNotFound: make('UPLOAD_NOT_FOUND', 404),
  uploadExpired: make('UPLOAD_EXPIRED', 410),
  uploadNotActive: make('UPLOAD_NOT_ACTIVE', 409),
  uploadTooLarge: make('UPLOAD_TOO_LARGE', 413),
  uploadTooSmall: make('UPLOAD_TOO_SMALL', 422),
  uploadTypeNotAllowed: make('UPLOAD_TYPE_NOT_ALLOWED', 415),
  uploadChunkSizeInvalid: make('UPLOAD_CHUNK_SIZE_INVALID', 422),
  uploadChunkIndexOutOfRange: make('UPLOAD_CHUNK_INDEX_OUT_OF_RANGE', 422),
  uploadChunkDigestMissing: make('UPLOAD_CHUNK_DIGEST_MISSING', 400),
  uploadChunkDigestMismatch: make('UPLOAD_CHUNK_DIGEST_MISMATCH', 422),
  uploadChunkConflict: make('UPLOAD_CHUNK_CONFLICT', 409),
  uploadIncomplete: make('UPLOAD_INCOMPLETE', 409),
  uploadFileDigestMismatch: make('UPLOAD_FILE_DIGEST_MISMATCH', 422),
  uploadTokenUsed: make('UPLOAD_TOKEN_ALREADY_USED', 403),
  uploadChunkInProgress: makeRetryable('UPLOAD_CHUNK_IN_PROGRESS', 409),
  uploadChunkTimeout: make('UPLOAD_CHUNK_TIMEOUT', 408),
  uploadCompletionInProgress: makeRetryable('UPLOAD_COMPLETION_IN_PROGRESS', 409),
  uploadTooManySessions: make('UPLOAD_TOO_MANY_SESSIONS', 429),
  uploadQuotaExceeded: make('UPLOAD_QUOTA_EXCEEDED', 413),
  uploadStorageFull: make('UPLOAD_STORAGE_FULL', 507),
  requestAborted: make('REQUEST_ABORTED', 400),

  mediaUnreadable: make('MEDIA_UNREADABLE', 422),
  mediaNoVideoStream: make('MEDIA_NO_VIDEO_STREAM', 422),
  mediaZeroDuration: make('MEDIA_ZERO_DURATION', 422),
  mediaTooLong: make('MEDIA_TOO_LONG', 422),
  mediaResolutionTooHigh: make('MEDIA_RESOLUTION_TOO_HIGH', 422),

  videoNotFound: make('VIDEO_NOT_FOUND', 404),
  videoDeleted: make('VIDEO_DELETED', 410),
  videoBusy: make('VIDEO_BUSY', 409),
  processingFailed: make('PROCESSING_FAILED', 500),
  mediaUnsupported: make('MEDIA_UNSUPPORTED', 422),
  keyNotFound: make('API_KEY_NOT_FOUND', 404),

  mediaNotFound: make('MEDIA_NOT_FOUND', 404),
  mediaSignatureInvalid: make('MEDIA_SIGNATURE_INVALID', 403),
  mediaSignatureExpired: make('MEDIA_SIGNATURE_EXPIRED', 403),
  rangeNotSatisfiable: (size: number) =>
    new AppError(
      'RANGE_NOT_SATISFIABLE',
      416,
      `The requested range is outside the file (${size} bytes)`,
      { size },
      { 'content-range': `bytes */${size}` },
    ),
} as const;
