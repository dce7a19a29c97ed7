import { createHash } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { NewVideo } from '../catalog/video-repository.ts';
import type { UploadLimits } from '../config.ts';
import { AppError, errors, isErrorCode } from '../errors.ts';
import { validateProbe } from '../media/probe.ts';
import type { ProbeResult } from '../media/probe-result.ts';
import type { Db, DbOrTx } from '../platform/db/database.ts';
import type { CompletionInput, StoredError } from '../platform/db/schema.ts';
import { newId } from '../platform/ids.ts';
import type { BlobStore, MultipartHandle } from '../platform/storage/blob-store.ts';
import type { RequestProcessing } from '../processing/jobs.ts';
import { missingChunks } from './chunks.ts';
import type { UploadRepository, UploadRow } from './upload-repository.ts';

export type CompleteUploadInput = CompletionInput;

/** Where a completed upload's video is created (catalog's VideoRepository). */
export interface VideoInserter {
  insert(tx: DbOrTx, video: NewVideo): Promise<unknown>;
}

export interface UploadCompletionDeps {
  db: Db;
  uploads: UploadRepository;
  videos: VideoInserter;
  store: BlobStore;
  requestProcessing: RequestProcessing;
  limits: UploadLimits;
  probe: (input: string) => Promise<ProbeResult>;
  handleOf(row: UploadRow): MultipartHandle;
}

/** A completing session renews its heartbeat this often; one silent for STALE is presumed dead. */
export const COMPLETION_HEARTBEAT_MS = 10_000;
export const COMPLETION_STALE_MS = 3 * COMPLETION_HEARTBEAT_MS;

/**
 * Turns a fully received session into a video: assemble, verify the whole-file hash, probe, then create
 * the video and enqueue its processing in one transaction. Runs for a client's `complete` and, with the
 * stored input, for a completion a dead process abandoned.
 */
export class UploadCompletion {
  readonly #deps: UploadCompletionDeps;

  constructor(deps: UploadCompletionDeps) {
    this.#deps = deps;
  }

  /** `row` is in `completing`, claimed by this process. */
  async run(row: UploadRow): Promise<{ videoId: string }> {
    const { uploads } = this.#deps;
    const heartbeat = setInterval(
      () => void uploads.renewCompletion(row.id).catch(() => {}),
      COMPLETION_HEARTBEAT_MS,
    );
    heartbeat.unref();
    try {
      const chunks = await uploads.chunks(row.id);
      const missing = missingChunks(
        chunks.map((chunk) => chunk.idx),
        row.total_chunks,
      );
      if (missing.length > 0) {
        await uploads.abandonCompletion(row.id);
        throw errors.uploadIncomplete(`${missing.length} chunk(s) are missing`, { missingChunks: missing });
      }
      await this.#assemble(row, chunks);
      const probe = await this.#verifyAndProbe(row);
      return await this.#createVideo(row, probe, row.completion ?? {});
    } catch (error) {
      if (error instanceof AppError && error.permanent) {
        await this.#reject(row, error);
      } else if (!(error instanceof AppError)) {
        // Transient (storage, database): leave the bytes and let the client retry.
        await uploads.abandonCompletion(row.id).catch(() => {});
      }
      throw error;
    } finally {
      clearInterval(heartbeat);
    }
  }

  async #assemble(row: UploadRow, chunks: { idx: number; etag: string | null }[]): Promise<void> {
    const { store } = this.#deps;
    // A completion resumed after a crash may find the object already assembled.
    const existing = await store.stat(row.storage_key);
    if (existing?.size === row.size) return;
    await store.completeMultipart(
      this.#deps.handleOf(row),
      chunks.map((chunk) => ({ index: chunk.idx, etag: chunk.etag })),
    );
  }

  async #verifyAndProbe(row: UploadRow): Promise<ProbeResult> {
    const { store, limits } = this.#deps;
    if (row.sha256) {
      const hash = createHash('sha256');
      await pipeline(await store.read(row.storage_key), hash);
      const actual = hash.digest('hex');
      if (actual !== row.sha256) {
        throw errors.uploadFileDigestMismatch(
          'The assembled file does not match the SHA-256 given when the upload was created',
          { expected: row.sha256, actual },
        );
      }
    }
    const probe = await this.#deps.probe(await store.locate(row.storage_key, 3600));
    validateProbe(probe, limits);
    return probe;
  }

  async #createVideo(row: UploadRow, probe: ProbeResult, input: CompleteUploadInput) {
    const video = probe.video!;
    const videoId = newId();
    await this.#deps.db.transaction().execute(async (tx) => {
      // Only the process that still holds the completion creates the video: exactly one per upload.
      if (!(await this.#deps.uploads.markCompleted(tx, row.id, videoId))) {
        throw errors.uploadNotActive('This upload was completed by another request');
      }
      await this.#deps.videos.insert(tx, {
        id: videoId,
        title: input.title?.trim() || titleFromFilename(row.filename),
        description: input.description ?? '',
        tags: input.tags ?? [],
        visibility: input.visibility ?? 'public',
        category: input.category ?? null,
        language: input.language ?? null,
        duration_seconds: probe.durationSeconds,
        width: video.displayWidth,
        height: video.displayHeight,
        fps: video.fps,
        video_codec: video.codec,
        audio_codec: probe.audio?.codec ?? null,
        bitrate: probe.bitrate,
        rotation: video.rotation,
        container: probe.container,
        probe: probe.raw,
        source_key: row.storage_key,
        source_size: row.size,
        upload_id: row.id,
        owner_key_id: row.owner_key_id,
      });
      await this.#deps.requestProcessing(tx, { id: videoId, durationSeconds: probe.durationSeconds });
    });
    return { videoId };
  }

  async #reject(row: UploadRow, error: AppError): Promise<void> {
    const { uploads, store } = this.#deps;
    await uploads.rejectCompletion(row.id, toStoredError(error));
    await store.delete(row.storage_key).catch(() => {});
    await store.abortMultipart(this.#deps.handleOf(row)).catch(() => {});
    await uploads.deleteChunks(row.id);
  }
}

function toStoredError(error: AppError): StoredError {
  return { code: error.code, status: error.httpStatus, message: error.message, details: error.details ?? {} };
}

/** The error a rejected completion ended with, as the first `complete` answered it. */
export function storedErrorOf(row: UploadRow): AppError | undefined {
  const stored = row.completion_error;
  if (!stored) return undefined;
  // Stored by an older release under a code since retired: answer as the media being unreadable.
  const code = isErrorCode(stored.code) ? stored.code : 'MEDIA_UNREADABLE';
  return new AppError(code, stored.message, stored.details);
}

function titleFromFilename(filename: string): string {
  return path.basename(filename, path.extname(filename)).replace(/[_.]+/g, ' ').trim() || 'Untitled video';
}
