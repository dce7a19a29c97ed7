import { createHash } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { loadClientConfig } from '../config.ts';
import { expectedChunkLength, formatContentDigest, totalChunksFor } from '../uploads/chunks.ts';
import { ReelApi, ReelApiError } from './api.ts';
import { contentTypeFor, hashFile, readFully } from './local-file.ts';
import { ResumeStateFile, resumeKey } from './resume-state.ts';
import { type RetryPolicy, withRetry } from './retry.ts';

export { ReelApiError } from './api.ts';
export { contentTypeFor } from './local-file.ts';

export interface UploadProgress {
  /** Bytes the server holds (chunks acknowledged, including those sent by an earlier run). */
  bytesSent: number;
  bytesTotal: number;
  chunksDone: number;
  chunksTotal: number;
  /** 'uploading' while chunks move; 'completing' while the server verifies and probes the file. */
  phase: 'uploading' | 'completing';
}

export interface UploadFileOptions {
  baseUrl: string;
  apiKey: string;
  filePath: string;
  title?: string;
  description?: string;
  tags?: string[];
  visibility?: 'public' | 'unlisted' | 'private';
  /** Chunks in flight at once (and connections kept open); default 4. */
  parallel?: number;
  /** Proposed chunk size in bytes; the server picks when omitted (and may refuse one out of bounds). */
  chunkSize?: number;
  /** Resume state file; default from loadClientConfig() (REEL_STATE_FILE); false: no resume across runs. */
  statePath?: string | false;
  /** Hash the whole file first and let the server verify it (reads the file twice). */
  verifyWholeFile?: boolean;
  onProgress?: (progress: UploadProgress) => void;
  /** Aborting stops the upload; the server keeps what it has and the next run resumes. */
  signal?: AbortSignal;
  /** Retry policy for every request; default 8 tries, 0.5 s × 2^n up to 30 s. */
  retry?: RetryPolicy;
  /** Notified before each retry wait (logging). */
  onRetry?: (info: { what: string; error: unknown; delayMs: number }) => void;
}

export interface UploadResult {
  uploadId: string;
  videoId: string;
  /** Chunks this call sent (acknowledged PUTs), and whether it continued an earlier session. */
  chunksSent: number;
  resumed: boolean;
}

interface SessionStatus {
  id: string;
  state: string;
  size: number;
  chunkSize: number;
  totalChunks: number;
  missingChunks: number[];
  expiresAt: string;
  videoId: string | null;
}

interface Session {
  id: string;
  chunkSize: number;
  totalChunks: number;
  missing: number[];
  resumed: boolean;
}

const COMPLETE_IDLE_TIMEOUT_MS = 15 * 60_000; // verifying and probing a big file takes a while
const MAX_COMPLETE_ROUNDS = 3;

/**
 * Uploads one file with Reel's chunked protocol: `parallel` workers each read a chunk into their own
 * buffer (memory: parallel × chunkSize), hash it and PUT it; failures are retried with backoff; an
 * interrupted upload resumes from the server's list of missing chunks, in this run or the next.
 */
export async function uploadFile(options: UploadFileOptions): Promise<UploadResult> {
  const parallel = options.parallel ?? 4;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) {
    throw new RangeError(`parallel must be an integer from 1 to 64, got ${parallel}`);
  }
  const filePath = path.resolve(options.filePath);
  const stats = await fs.stat(filePath);
  if (!stats.isFile()) throw new Error(`${filePath} is not a file`);
  const statePath = options.statePath === undefined ? loadClientConfig().statePath : options.statePath;
  const state = statePath ? new ResumeStateFile(statePath) : undefined;
  const key = resumeKey(filePath, stats.size, stats.mtimeMs);
  const api = new ReelApi({ baseUrl: options.baseUrl, apiKey: options.apiKey, maxSockets: parallel });
  const upload = new Upload(api, options, filePath, stats.size, parallel);
  try {
    const previous = await state?.get(key);
    let session =
      previous && previous.baseUrl === api.baseUrl ? await upload.resume(previous.uploadId) : undefined;
    if (session && 'videoId' in session) {
      // Completed by an earlier run that stopped before forgetting it.
      await state?.delete(key);
      return { uploadId: previous!.uploadId, videoId: session.videoId, chunksSent: 0, resumed: true };
    }
    if (!session) {
      session = await upload.create();
      await state?.set(key, {
        uploadId: session.id,
        baseUrl: api.baseUrl,
        createdAt: new Date().toISOString(),
      });
    }
    const videoId = await upload.run(session);
    await state?.delete(key);
    return { uploadId: session.id, videoId, chunksSent: upload.chunksSent, resumed: session.resumed };
  } catch (error) {
    // A session the server refused for good (rejected file, expired, gone) is not worth resuming.
    if (error instanceof ReelApiError && isFinalForSession(error)) await state?.delete(key).catch(() => {});
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  } finally {
    api.close();
  }
}

function isFinalForSession(error: ReelApiError): boolean {
  if (error.code === 'UPLOAD_INCOMPLETE') return false; // still resumable
  return error.status >= 400 && error.status < 500 && ![401, 403, 408, 429].includes(error.status);
}

/** One upload's moving parts; `uploadFile` drives it. */
class Upload {
  readonly #api: ReelApi;
  readonly #options: UploadFileOptions;
  readonly #filePath: string;
  readonly #size: number;
  readonly #parallel: number;
  #bytesSent = 0;
  #chunksDone = 0;
  #chunksTotal = 0;
  #chunkSize = 0;
  chunksSent = 0;

  constructor(api: ReelApi, options: UploadFileOptions, filePath: string, size: number, parallel: number) {
    this.#api = api;
    this.#options = options;
    this.#filePath = filePath;
    this.#size = size;
    this.#parallel = parallel;
  }

  /** The session to continue, `{ videoId }` when it already became a video, or undefined to start afresh. */
  async resume(uploadId: string): Promise<Session | { videoId: string } | undefined> {
    let status: SessionStatus;
    try {
      status = await this.#retrying('status', (signal) =>
        this.#api.json<SessionStatus>('GET', `/api/v1/uploads/${encodeURIComponent(uploadId)}`, undefined, {
          signal,
        }),
      );
    } catch (error) {
      if (
        error instanceof ReelApiError &&
        error.status >= 400 &&
        error.status < 500 &&
        error.status !== 429
      ) {
        return undefined; // gone, expired, or not ours: start afresh
      }
      throw error;
    }
    if (status.state === 'completed' && status.videoId) return { videoId: status.videoId };
    const usable =
      (status.state === 'active' || status.state === 'completing') &&
      status.size === this.#size &&
      Date.parse(status.expiresAt) > Date.now();
    if (!usable) return undefined;
    return {
      id: status.id,
      chunkSize: status.chunkSize,
      totalChunks: status.totalChunks,
      // A session being completed takes no chunks: go straight to complete, which waits for the outcome.
      missing: status.state === 'completing' ? [] : status.missingChunks,
      resumed: true,
    };
  }

  async create(): Promise<Session> {
    const filename = path.basename(this.#filePath);
    const sha256 = this.#options.verifyWholeFile
      ? await hashFile(this.#filePath, this.#options.signal)
      : undefined;
    const body = {
      filename,
      size: this.#size,
      contentType: contentTypeFor(filename),
      ...(sha256 ? { sha256 } : {}),
      ...(this.#options.chunkSize ? { chunkSize: this.#options.chunkSize } : {}),
    };
    const created = await this.#retrying('create', (signal) =>
      this.#api.json<{ id: string; chunkSize: number; totalChunks: number }>(
        'POST',
        '/api/v1/uploads',
        body,
        {
          signal,
        },
      ),
    );
    const missing = Array.from({ length: created.totalChunks }, (_, index) => index);
    return {
      id: created.id,
      chunkSize: created.chunkSize,
      totalChunks: created.totalChunks,
      missing,
      resumed: false,
    };
  }

  /** Sends the missing chunks, then completes (re-sending any chunk the server still lacks). */
  async run(session: Session): Promise<string> {
    if (totalChunksFor(this.#size, session.chunkSize) !== session.totalChunks) {
      throw new Error(`Upload ${session.id}: the server's chunk layout does not match this file`);
    }
    this.#chunksTotal = session.totalChunks;
    this.#chunkSize = session.chunkSize;
    this.#account(session.missing);
    const file = await fs.open(this.#filePath, 'r');
    try {
      let missing = session.missing;
      for (let round = 0; ; round++) {
        await this.#sendChunks(file, session, missing);
        this.#report('completing');
        try {
          return await this.#complete(session.id);
        } catch (error) {
          const incomplete = error instanceof ReelApiError && error.code === 'UPLOAD_INCOMPLETE';
          if (!incomplete || round + 1 >= MAX_COMPLETE_ROUNDS) throw error;
          missing = await this.#missingAfterIncomplete(session.id, error);
          this.#account(missing);
        }
      }
    } finally {
      await file.close();
    }
  }

  /** Progress counters from the chunks still to send. */
  #account(missing: number[]): void {
    const unique = [...new Set(missing)];
    const pending = unique.reduce((sum, index) => sum + this.#chunkLength(index), 0);
    this.#bytesSent = this.#size - pending;
    this.#chunksDone = this.#chunksTotal - unique.length;
    this.#report('uploading');
  }

  #chunkLength(index: number): number {
    return expectedChunkLength(this.#size, this.#chunkSize, index);
  }

  #report(phase: UploadProgress['phase']): void {
    this.#options.onProgress?.({
      bytesSent: this.#bytesSent,
      bytesTotal: this.#size,
      chunksDone: this.#chunksDone,
      chunksTotal: this.#chunksTotal,
      phase,
    });
  }

  async #sendChunks(file: FileHandle, session: Session, indices: number[]): Promise<void> {
    const workers = new AbortController();
    const outer = this.#options.signal;
    const stop = () => workers.abort(outer?.reason);
    if (outer?.aborted) stop();
    outer?.addEventListener('abort', stop, { once: true });
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      const buffer = Buffer.allocUnsafe(session.chunkSize); // one per worker, reused for every chunk
      while (!workers.signal.aborted && next < indices.length) {
        const index = indices[next++]!;
        try {
          await this.#sendChunk(file, session, index, buffer, workers.signal);
        } catch (error) {
          failure ??= { error };
          workers.abort(error);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.#parallel, indices.length) }, worker));
    } finally {
      outer?.removeEventListener('abort', stop);
    }
    outer?.throwIfAborted();
    if (failure) throw failure.error;
  }

  async #sendChunk(file: FileHandle, session: Session, index: number, buffer: Buffer, signal: AbortSignal) {
    const length = expectedChunkLength(this.#size, session.chunkSize, index);
    const bytes = buffer.subarray(0, length);
    await readFully(file, bytes, index * session.chunkSize, this.#filePath);
    const digest = formatContentDigest(createHash('sha256').update(bytes).digest());
    const url = `/api/v1/uploads/${encodeURIComponent(session.id)}/chunks/${index}`;
    await this.#retrying(
      `chunk ${index}`,
      (attemptSignal) =>
        this.#api.bytes('PUT', url, { 'content-digest': digest }, bytes, { signal: attemptSignal }),
      signal,
    );
    this.chunksSent++;
    this.#chunksDone++;
    this.#bytesSent += length;
    this.#report('uploading');
  }

  async #complete(uploadId: string): Promise<string> {
    const { title, description, tags, visibility } = this.#options;
    const body = { title, description, tags, visibility };
    const url = `/api/v1/uploads/${encodeURIComponent(uploadId)}/complete`;
    try {
      const { videoId } = await this.#retrying('complete', (signal) =>
        this.#api.json<{ videoId: string }>('POST', url, body, {
          signal,
          idleTimeoutMs: COMPLETE_IDLE_TIMEOUT_MS,
        }),
      );
      return videoId;
    } catch (error) {
      // A retried complete may find the first attempt still at work (or done): wait for its outcome.
      if (error instanceof ReelApiError && error.code === 'UPLOAD_NOT_ACTIVE')
        return this.#awaitCompletion(uploadId, error);
      throw error;
    }
  }

  async #awaitCompletion(uploadId: string, cause: ReelApiError): Promise<string> {
    const deadline = Date.now() + COMPLETE_IDLE_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const status = await this.#retrying('status', (signal) =>
        this.#api.json<SessionStatus>('GET', `/api/v1/uploads/${encodeURIComponent(uploadId)}`, undefined, {
          signal,
        }),
      );
      if (status.state === 'completed' && status.videoId) return status.videoId;
      if (status.state === 'active') return this.#complete(uploadId);
      if (status.state !== 'completing') throw cause;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      this.#options.signal?.throwIfAborted();
    }
    throw cause;
  }

  async #missingAfterIncomplete(uploadId: string, error: ReelApiError): Promise<number[]> {
    const listed = error.details.missingChunks;
    if (Array.isArray(listed) && listed.every((index) => Number.isInteger(index))) return listed as number[];
    const status = await this.#retrying('status', (signal) =>
      this.#api.json<SessionStatus>('GET', `/api/v1/uploads/${encodeURIComponent(uploadId)}`, undefined, {
        signal,
      }),
    );
    return status.missingChunks;
  }

  #retrying<T>(what: string, attempt: (signal: AbortSignal | undefined) => Promise<T>, signal?: AbortSignal) {
    const effective = signal ?? this.#options.signal;
    const onRetry = this.#options.onRetry;
    return withRetry(() => attempt(effective), {
      signal: effective,
      policy: this.#options.retry,
      onRetry: onRetry && ((info) => onRetry({ what, error: info.error, delayMs: info.delayMs })),
    });
  }
}
