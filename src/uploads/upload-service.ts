import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ownerKeyId, type Principal } from '../auth/principal.ts';
import type { UploadTokens } from '../auth/upload-tokens.ts';
import type { VideoRepository } from '../catalog/video-repository.ts';
import type { UploadLimits } from '../config.ts';
import { AppError, errors } from '../errors.ts';
import { validateProbe } from '../media/probe.ts';
import type { ProbeResult } from '../media/probe-result.ts';
import { extensionFamily, mimeTypeFamily, SNIFF_BYTES, sniffContainer } from '../media/sniff.ts';
import type { Db } from '../platform/db/database.ts';
import { transactionExecutor } from '../platform/db/database.ts';
import type { Visibility } from '../platform/db/schema.ts';
import { newId } from '../platform/ids.ts';
import type { JobQueue } from '../platform/queue/job-queue.ts';
import type { BlobStore, MultipartHandle } from '../platform/storage/blob-store.ts';
import { processingJobOptions } from '../processing/job-options.ts';
import { ChunkMeter, ChunkTooLongError } from './chunk-meter.ts';
import {
  bytesReceived,
  chooseChunkSize,
  expectedChunkLength,
  missingChunks,
  parseContentDigest,
} from './chunks.ts';
import type { UploadRepository, UploadRow } from './upload-repository.ts';

export interface CreateUploadInput {
  filename: string;
  size: number;
  contentType: string;
  sha256?: string;
  chunkSize?: number;
}

export interface CompleteUploadInput {
  title?: string;
  description?: string;
  tags?: string[];
  visibility?: Visibility;
}

export interface UploadServiceDeps {
  db: Db;
  uploads: UploadRepository;
  videos: VideoRepository;
  tokens: UploadTokens;
  store: BlobStore;
  queue: JobQueue;
  limits: UploadLimits;
  probe: (input: string) => Promise<ProbeResult>;
  now?: () => Date;
}

/** A completion abandoned by a dead process may be retried after this long. */
const STALE_COMPLETION_MS = 2 * 60_000;

export class UploadService {
  readonly #deps: UploadServiceDeps;
  readonly #now: () => Date;

  constructor(deps: UploadServiceDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  async create(principal: Principal, input: CreateUploadInput) {
    const { limits } = this.#deps;
    if (principal.kind === 'upload-token' && principal.uploadId) {
      throw errors.uploadTokenUsed('This upload token has already created an upload session');
    }
    if (input.size > limits.maxSize) {
      throw errors.uploadTooLarge(`The file is ${input.size} bytes; the limit is ${limits.maxSize} bytes`, {
        maxSize: limits.maxSize,
      });
    }
    if (input.size < limits.minSize) {
      throw errors.uploadTooSmall(`The file must be at least ${limits.minSize} bytes`, {
        minSize: limits.minSize,
      });
    }
    const extension = path.extname(input.filename).slice(1).toLowerCase();
    if (!extensionFamily(input.filename)) {
      throw errors.uploadTypeNotAllowed(
        `Files ending in ".${extension}" are not accepted; upload a video file`,
        {
          filename: input.filename,
        },
      );
    }
    if (!mimeTypeFamily(input.contentType)) {
      throw errors.uploadTypeNotAllowed(
        `Content type "${input.contentType}" is not a video type Reel accepts`,
        {
          contentType: input.contentType,
        },
      );
    }
    const chosen = chooseChunkSize(input.size, input.chunkSize, limits);
    if ('error' in chosen) throw errors.uploadChunkSizeInvalid(chosen.error, { chunkSize: input.chunkSize });

    const id = newId();
    const storageKey = `sources/${id}/original.${extension}`;
    const handle = await this.#deps.store.createMultipart(storageKey, input.size, chosen.chunkSize);
    try {
      const row = await this.#deps.db.transaction().execute(async (tx) => {
        const inserted = await this.#deps.uploads.insert(tx, {
          id,
          state: 'active',
          filename: input.filename,
          size: input.size,
          content_type: input.contentType,
          chunk_size: chosen.chunkSize,
          total_chunks: Math.ceil(input.size / chosen.chunkSize),
          sha256: input.sha256?.toLowerCase() ?? null,
          storage_key: storageKey,
          storage_upload_id: handle.uploadId,
          owner_key_id: ownerKeyId(principal),
          expires_at: this.#expiry(),
        });
        if (principal.kind === 'upload-token') await this.#deps.tokens.bind(tx, principal.tokenId, id);
        return inserted;
      });
      return {
        id: row.id,
        chunkSize: row.chunk_size,
        totalChunks: row.total_chunks,
        expiresAt: row.expires_at.toISOString(),
      };
    } catch (error) {
      await this.#deps.store.abortMultipart(handle).catch(() => {});
      throw error;
    }
  }

  async status(principal: Principal, id: string) {
    const row = await this.#load(principal, id);
    const chunks = await this.#deps.uploads.chunks(id);
    const indices = chunks.map((chunk) => chunk.idx);
    return {
      id: row.id,
      state: row.state,
      filename: row.filename,
      size: row.size,
      chunkSize: row.chunk_size,
      totalChunks: row.total_chunks,
      receivedChunks: indices.length,
      missingChunks: missingChunks(indices, row.total_chunks),
      bytesReceived: bytesReceived(indices, row.size, row.chunk_size),
      expiresAt: row.expires_at.toISOString(),
      videoId: row.video_id,
    };
  }

  /**
   * Streams one chunk to storage while hashing it; it counts only once its digest matches.
   * Duplicates are no-ops that succeed; a different payload for a received chunk is refused.
   */
  async receiveChunk(
    principal: Principal,
    id: string,
    index: number,
    body: Readable,
    headers: { contentDigest: string | undefined; contentLength: number | undefined },
  ) {
    const row = await this.#load(principal, id);
    this.#assertActive(row);
    const expectedLength = expectedChunkLength(row.size, row.chunk_size, index);
    if (expectedLength < 0) {
      throw errors.uploadChunkIndexOutOfRange(`Chunk index ${index} is outside 0…${row.total_chunks - 1}`, {
        index,
        totalChunks: row.total_chunks,
      });
    }
    const digest = parseContentDigest(headers.contentDigest);
    if (!digest) {
      throw errors.uploadChunkDigestMissing(
        'Send the chunk\'s SHA-256 as "Content-Digest: sha-256=:<base64>:"',
      );
    }
    if (headers.contentLength !== undefined && headers.contentLength !== expectedLength) {
      throw this.#wrongSize(index, expectedLength, headers.contentLength);
    }
    const existing = await this.#deps.uploads.findChunk(id, index);
    if (existing) {
      body.resume(); // nothing to store: let the request body drain
      if (existing.digest !== digest.toString('base64')) {
        throw errors.uploadChunkConflict(`Chunk ${index} was already received with different content`, {
          index,
        });
      }
      return this.#chunkReceipt(id, index, row.total_chunks, true);
    }

    const meter = new ChunkMeter(expectedLength, index === 0 ? SNIFF_BYTES : 0);
    let etag: string | null;
    try {
      const source = body.pipe(meter);
      body.once('error', (error) => meter.destroy(error));
      ({ etag } = await this.#deps.store.writePart(this.#handle(row), index, source, expectedLength));
    } catch (error) {
      if (error instanceof ChunkTooLongError) throw this.#wrongSize(index, expectedLength, meter.length);
      throw error;
    }
    if (meter.length !== expectedLength) throw this.#wrongSize(index, expectedLength, meter.length);
    const actual = meter.digest();
    if (!actual.equals(digest)) {
      throw errors.uploadChunkDigestMismatch(
        `Chunk ${index} does not match its Content-Digest; send it again`,
        {
          index,
          expected: digest.toString('base64'),
          actual: actual.toString('base64'),
        },
      );
    }
    if (index === 0 && !sniffContainer(meter.head())) {
      throw errors.uploadTypeNotAllowed('The file does not start like any video container Reel accepts', {
        index,
      });
    }
    const recorded = await this.#deps.uploads.recordChunk(
      id,
      { idx: index, size: expectedLength, digest: actual.toString('base64'), etag },
      this.#expiry(),
    );
    if (!recorded) throw errors.uploadNotActive('The upload session is no longer accepting chunks');
    return this.#chunkReceipt(id, index, row.total_chunks, false);
  }

  /** Assembles, verifies and probes the file, then creates the video and its job in one transaction. */
  async complete(principal: Principal, id: string, input: CompleteUploadInput) {
    const current = await this.#load(principal, id);
    if (current.state === 'completed' && current.video_id) return { videoId: current.video_id };
    const staleBefore = new Date(this.#now().getTime() - STALE_COMPLETION_MS);
    const row =
      (await this.#deps.uploads.transition(id, ['active'], 'completing')) ??
      (await this.#deps.uploads.transition(id, ['completing'], 'completing', { staleBefore }));
    if (!row) {
      this.#assertActive(current);
      throw errors.uploadNotActive('This upload is already being completed');
    }
    try {
      const chunks = await this.#deps.uploads.chunks(id);
      const missing = missingChunks(
        chunks.map((chunk) => chunk.idx),
        row.total_chunks,
      );
      if (missing.length > 0) {
        await this.#deps.uploads.transition(id, ['completing'], 'active');
        throw errors.uploadIncomplete(`${missing.length} chunk(s) are missing`, { missingChunks: missing });
      }
      await this.#assemble(row, chunks);
      const probe = await this.#verifyAndProbe(row);
      return await this.#createVideo(row, probe, input);
    } catch (error) {
      if (error instanceof AppError && error.httpStatus === 422) {
        await this.#reject(row);
      } else if (!(error instanceof AppError)) {
        // Transient (storage, database): leave the bytes and let the client retry.
        await this.#deps.uploads.transition(id, ['completing'], 'active').catch(() => {});
      }
      throw error;
    }
  }

  async abort(principal: Principal, id: string): Promise<void> {
    const row = await this.#load(principal, id);
    const moved = await this.#deps.uploads.transition(id, ['active', 'expired'], 'aborted');
    if (!moved) this.#assertActive(row);
    await this.#deps.store.abortMultipart(this.#handle(row));
    await this.#deps.uploads.deleteChunks(id);
  }

  /** Frees sessions idle beyond their TTL (bytes included). Returns how many were swept. */
  async sweepExpired(limit = 100): Promise<number> {
    const expired = await this.#deps.uploads.claimExpired(this.#now(), limit);
    for (const row of expired) {
      await this.#deps.store.abortMultipart(this.#handle(row)).catch(() => {});
      await this.#deps.uploads.deleteChunks(row.id);
    }
    return expired.length;
  }

  async #assemble(row: UploadRow, chunks: { idx: number; etag: string | null }[]): Promise<void> {
    const { store } = this.#deps;
    // A completion retried after a crash may find the object already assembled.
    const existing = await store.stat(row.storage_key);
    if (existing?.size === row.size) return;
    await store.completeMultipart(
      this.#handle(row),
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
      await this.#deps.videos.insert(tx, {
        id: videoId,
        title: input.title?.trim() || titleFromFilename(row.filename),
        description: input.description ?? '',
        tags: input.tags ?? [],
        visibility: input.visibility ?? 'public',
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
      await this.#deps.uploads.markCompleted(tx, row.id, videoId);
      await this.#deps.queue.send(
        'video.process',
        { videoId },
        { tx: transactionExecutor(tx), ...processingJobOptions(probe.durationSeconds) },
      );
    });
    return { videoId };
  }

  async #reject(row: UploadRow): Promise<void> {
    await this.#deps.uploads.transition(row.id, ['completing'], 'rejected');
    await this.#deps.store.delete(row.storage_key).catch(() => {});
    await this.#deps.store.abortMultipart(this.#handle(row)).catch(() => {});
    await this.#deps.uploads.deleteChunks(row.id);
  }

  async #load(principal: Principal, id: string): Promise<UploadRow> {
    const row = await this.#deps.uploads.find(id);
    if (!row) throw errors.uploadNotFound(`No upload session ${id}`);
    if (principal.kind === 'upload-token' && principal.uploadId !== id) {
      throw errors.forbidden('This upload token is not valid for that upload session');
    }
    return row;
  }

  #assertActive(row: UploadRow): void {
    const expired = row.state === 'expired' || (row.state === 'active' && row.expires_at < this.#now());
    if (expired) throw errors.uploadExpired('The upload session expired; start a new upload');
    if (row.state !== 'active') {
      throw errors.uploadNotActive(`The upload session is ${row.state}`, { state: row.state });
    }
  }

  async #chunkReceipt(id: string, index: number, totalChunks: number, duplicate: boolean) {
    const received = await this.#deps.uploads.countChunks(id);
    return { index, duplicate, receivedChunks: received, totalChunks };
  }

  #handle(row: UploadRow): MultipartHandle {
    return {
      key: row.storage_key,
      uploadId: row.storage_upload_id,
      size: row.size,
      partSize: row.chunk_size,
    };
  }

  #expiry(): Date {
    return new Date(this.#now().getTime() + this.#deps.limits.sessionTtlSeconds * 1000);
  }

  #wrongSize(index: number, expected: number, actual: number): AppError {
    return errors.uploadChunkSizeInvalid(`Chunk ${index} must be ${expected} bytes, got ${actual}`, {
      index,
      expected,
      actual,
    });
  }
}

function titleFromFilename(filename: string): string {
  return path.basename(filename, path.extname(filename)).replace(/[_.]+/g, ' ').trim() || 'Untitled video';
}
