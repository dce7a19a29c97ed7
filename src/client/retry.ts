import { setTimeout as sleep } from 'node:timers/promises';

/** When and how long to retry a failed request. */
export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  tries: number;
  /** Delay before the first retry; doubles after each failure. */
  baseDelayMs: number;
  /** Upper bound of the exponential delay. */
  maxDelayMs: number;
  /** Upper bound of a server's Retry-After (a misconfigured server must not park the client for hours). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  tries: 8,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 300_000,
};

/**
 * Delay before retry number `retry` (0 after the first failure): the ceiling min(max, base × 2^retry)
 * scaled by a jitter factor in [0.5, 1) ("equal jitter"), so parallel workers that failed together do
 * not come back together. `random` is in [0, 1).
 */
export function backoffDelayMs(
  retry: number,
  random: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(ceiling * (0.5 + random / 2));
}

/**
 * Delay before a retry: the server's Retry-After when it gave one (capped, plus up to 10 % — at most
 * 1 s — of jitter), else the exponential backoff.
 */
export function retryDelayMs(
  retry: number,
  retryAfterMs: number | undefined,
  random: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): number {
  if (retryAfterMs === undefined) return backoffDelayMs(retry, random, policy);
  const wait = Math.min(Math.max(0, retryAfterMs), policy.maxRetryAfterMs);
  return Math.round(wait + random * Math.min(1000, wait * 0.1));
}

/**
 * An HTTP Retry-After value (RFC 9110 §10.2.3) in milliseconds from `nowMs`: delay-seconds or an
 * HTTP-date (a past date gives 0). Undefined when absent or malformed.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // "1.5", "-3": neither form
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** HTTP statuses worth retrying: the server (or a proxy) may answer differently later. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Only these statuses carry a Retry-After the client honours. */
export function honoursRetryAfter(status: number): boolean {
  return status === 429 || status === 503;
}

/** 409s that mean "another request is doing this right now; ask again after Retry-After". */
const ASK_AGAIN_CODES = new Set(['UPLOAD_CHUNK_IN_PROGRESS', 'UPLOAD_COMPLETION_IN_PROGRESS']);

/** What a failed attempt tells the retry loop. */
export interface FailureVerdict {
  retry: boolean;
  retryAfterMs?: number;
}

/** A failure the server described: its HTTP status and, when sent, its Retry-After. */
export interface HttpFailure {
  status: number;
  code: string;
  retryAfterMs?: number;
}

/** Codes of Node's socket-level failures: the request may not have reached the server at all. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
  'HPE_INVALID_CONSTANT',
  'HPE_UNEXPECTED_CONTENT_LENGTH',
]);

/**
 * Network failures, 5xx, 408 and 429 are retried (Retry-After honoured on 429 and 503); a chunk whose
 * digest did not match is resent (bytes damaged on the way); a chunk or completion another request is
 * busy with is asked again after its Retry-After. Any other 4xx is final, as is an abort.
 */
export function classifyFailure(error: unknown): FailureVerdict {
  if (isHttpFailure(error)) {
    if (error.code === 'UPLOAD_CHUNK_DIGEST_MISMATCH') return { retry: true };
    if (ASK_AGAIN_CODES.has(error.code)) {
      return error.retryAfterMs === undefined
        ? { retry: true }
        : { retry: true, retryAfterMs: error.retryAfterMs };
    }
    if (!isRetryableStatus(error.status)) return { retry: false };
    return honoursRetryAfter(error.status) && error.retryAfterMs !== undefined
      ? { retry: true, retryAfterMs: error.retryAfterMs }
      : { retry: true };
  }
  const code = (error as { code?: unknown } | null)?.code;
  return { retry: typeof code === 'string' && NETWORK_ERROR_CODES.has(code) };
}

function isHttpFailure(error: unknown): error is HttpFailure {
  return typeof (error as HttpFailure | null)?.status === 'number';
}

export interface RetryOptions {
  policy?: RetryPolicy;
  signal?: AbortSignal;
  random?: () => number;
  /** Called before each wait, e.g. to log "chunk 12: 503, retrying in 2.0 s". */
  onRetry?: (info: { error: unknown; retry: number; delayMs: number }) => void;
}

/** Runs `attempt` until it succeeds, a failure is final, the tries run out, or the signal aborts. */
export async function withRetry<T>(
  attempt: (tryNumber: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const random = options.random ?? Math.random;
  for (let tryNumber = 0; ; tryNumber++) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(tryNumber);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const verdict = classifyFailure(error);
      if (!verdict.retry || tryNumber + 1 >= policy.tries) throw error;
      const delayMs = retryDelayMs(tryNumber, verdict.retryAfterMs, random(), policy);
      options.onRetry?.({ error, retry: tryNumber, delayMs });
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }
}
