import path from 'node:path';
import type { Readable } from 'node:stream';
import { canUseUpload } from '../auth/policy.ts';
import { ownerKeyId, type Principal } from '../auth/principal.ts';
import type { UploadTokens } from '../auth/upload-tokens.ts';
import { normalizeEdit } from '../catalog/video-fields.ts';
import type { UploadLimits } from '../config.ts';
import { errors } from '../errors.ts';
import type { ProbeResult } from '../media/probe-result.ts';
import { extensionFamily, mimeTypeFamily } from '../media/sniff.ts';
import { sourceKey } from '../media/storage-layout.ts';
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import { newId } from '../platform/ids.ts';
import type { BlobStore, MultipartHandle } from '../platform/storage/blob-store.ts';
import type { RequestProcessing } from '../processing/jobs.ts';
import { type ChunkHeaders, ChunkReceiver } from './chunk-receiver.ts';
import { bytesReceived, chooseChunkSize, missingChunks } from './chunks.ts';
import {
  COMPLETION_STALE_MS,
  type CompleteUploadInput,
  storedErrorOf,
  UploadCompletion,
  type VideoInserter,
} from './upload-completion.ts';
import type { UploadRepository, UploadRow } from './upload-repository.ts';

export type { CompleteUploadInput } from './upload-completion.ts';

export interface CreateUploadInput {
  filename: string;
  size: number;
  contentType: string;
  sha256?: string;
  chunkSize?: number;
}

export interface UploadServiceDeps {
  db: Db;
  uploads: UploadRepository;
  videos: VideoInserter;
  tokens: UploadTokens;
  store: BlobStore;
  requestProcessing: RequestProcessing;
  limits: UploadLimits;
  probe: (input: string) => Promise<ProbeResult>;
  clock: Clock;
}

/** A client retrying `complete` while another process completes the session is told to wait this long. */
const COMPLETION_RETRY_AFTER_SECONDS = 5;

export class UploadService {
  readonly #deps: UploadServiceDeps;
  readonly #chunks: ChunkReceiver;
  readonly #completion: UploadCompletion;

  constructor(deps: UploadServiceDeps) {
    this.#deps = deps;
    this.#chunks = new ChunkReceiver({
      uploads: deps.uploads,
      store: deps.store,
      idleTimeoutMs: deps.limits.idleTimeoutSeconds * 1000,
      handleOf: handleOfRow,
      expiry: () => this.#expiry(),
      now: () => deps.clock.nowMs(),
    });
    this.#completion = new UploadCompletion({ ...deps, handleOf: handleOfRow });
  }

  async create(principal: Principal, input: CreateUploadInput) {
    const { limits, uploads, store } = this.#deps;
    if (principal.kind === 'upload-token' && principal.uploadId) {
      throw errors.uploadTokenUsed('This upload token has already created an upload session');
    }
    checkSizeAndType(input, limits);
    const chosen = chooseChunkSize(input.size, input.chunkSize, limits);
    if ('error' in chosen) throw errors.uploadChunkSizeInvalid(chosen.error, { chunkSize: input.chunkSize });
    await this.#assertStorageFits(input.size);

    const id = newId();
    const extension = path.extname(input.filename).slice(1).toLowerCase();
    const storageKey = sourceKey(id, extension);
    const owner = ownerKeyId(principal);
    const handle = await store.createMultipart(storageKey, input.size, chosen.chunkSize);
    try {
      const row = await this.#deps.db.transaction().execute(async (tx) => {
        await uploads.lockOwner(tx, owner);
        this.#assertWithinQuota(await uploads.usageOf(tx, owner), input.size);
        const inserted = await uploads.insert(tx, {
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
          owner_key_id: owner,
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
      await store.abortMultipart(handle).catch(() => {});
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

  /** One chunk, streamed to storage while hashed; see ChunkReceiver for the concurrency rules. */
  async receiveChunk(principal: Principal, id: string, index: number, body: Readable, headers: ChunkHeaders) {
    const row = await this.#load(principal, id);
    this.#assertActive(row);
    return this.#chunks.receive(row, index, body, headers);
  }

  /**
   * Verifies, probes and turns the session into a video. Retrying is safe: a completed session answers
   * its video again, a rejected one its first error, one being completed elsewhere 409 + Retry-After.
   */
  async complete(principal: Principal, id: string, request: CompleteUploadInput) {
    const current = await this.#load(principal, id);
    if (current.state === 'completed' && current.video_id) return { videoId: current.video_id };
    const rejection = current.state === 'rejected' ? storedErrorOf(current) : undefined;
    if (rejection) throw rejection;
    // Checked before anything is stored: a bad field is a 400 that leaves the upload as it was.
    const input = normalizeEdit(request);
    const { uploads } = this.#deps;
    const row =
      (await uploads.beginCompletion(id, input)) ??
      (await uploads.takeOverCompletion(id, this.#staleBefore()));
    if (!row) {
      const latest = (await uploads.find(id)) ?? current;
      if (latest.state === 'completing') {
        throw errors.uploadCompletionInProgress(
          COMPLETION_RETRY_AFTER_SECONDS,
          'This upload is being completed; ask again shortly for its result',
        );
      }
      if (latest.state === 'completed' && latest.video_id) return { videoId: latest.video_id };
      this.#assertActive(latest);
      throw errors.uploadNotActive(`The upload session is ${latest.state}`, { state: latest.state });
    }
    return this.#completion.run(row);
  }

  async abort(principal: Principal, id: string): Promise<void> {
    const row = await this.#load(principal, id);
    const moved = await this.#deps.uploads.transition(id, ['active', 'expired'], 'aborted');
    if (!moved) this.#assertActive(row);
    await this.#deps.store.abortMultipart(handleOfRow(row));
    await this.#deps.uploads.deleteChunks(id);
  }

  /** Frees sessions idle beyond their TTL (bytes included). Returns how many were swept. */
  async sweepExpired(limit = 100): Promise<number> {
    const expired = await this.#deps.uploads.claimExpired(this.#deps.clock.now(), limit);
    for (const row of expired) {
      await this.#deps.store.abortMultipart(handleOfRow(row)).catch(() => {});
      await this.#deps.uploads.deleteChunks(row.id);
    }
    return expired.length;
  }

  /**
   * Finishes completions abandoned by a process that died mid-way (no heartbeat for
   * COMPLETION_STALE_MS), with the input their client sent. Returns how many were recovered.
   */
  async recoverStaleCompletions(limit = 10): Promise<number> {
    const stale = await this.#deps.uploads.claimStaleCompletions(this.#staleBefore(), limit);
    for (const row of stale) await this.#completion.run(row).catch(() => {}); // the outcome is stored
    return stale.length;
  }

  async #load(principal: Principal, id: string): Promise<UploadRow> {
    const row = await this.#deps.uploads.find(id);
    if (row && canUseUpload({ id: row.id, ownerKeyId: row.owner_key_id }, principal)) return row;
    // A token knows its one session: any other id is refused as such. For a key, another key's
    // session does not exist.
    if (principal.kind === 'upload-token' && principal.uploadId !== id) {
      throw errors.forbidden('This upload token is not valid for that upload session');
    }
    throw errors.uploadNotFound(`No upload session ${id}`);
  }

  #assertActive(row: UploadRow): void {
    const expired =
      row.state === 'expired' || (row.state === 'active' && row.expires_at < this.#deps.clock.now());
    if (expired) throw errors.uploadExpired('The upload session expired; start a new upload');
    if (row.state !== 'active') {
      throw errors.uploadNotActive(`The upload session is ${row.state}`, { state: row.state });
    }
  }

  #assertWithinQuota(usage: { sessions: number; bytes: number }, size: number): void {
    const { maxActiveSessions, maxReservedBytes } = this.#deps.limits;
    if (usage.sessions >= maxActiveSessions) {
      throw errors.uploadTooManySessions(
        `This key already has ${usage.sessions} open upload sessions (the limit is ${maxActiveSessions}); complete or abort one first`,
        { activeSessions: usage.sessions, maxActiveSessions },
      );
    }
    if (usage.bytes + size > maxReservedBytes) {
      throw errors.uploadQuotaExceeded(
        `Open uploads of this key would reserve ${usage.bytes + size} bytes; the limit is ${maxReservedBytes}`,
        { reservedBytes: usage.bytes, size, maxReservedBytes },
      );
    }
  }

  /** Local disk: refuse a session that could not fit next to what open sessions still have to write. */
  async #assertStorageFits(size: number): Promise<void> {
    const free = await this.#deps.store.freeBytes();
    if (free === undefined) return;
    const pending = await this.#deps.uploads.pendingBytes();
    if (size + pending > free) {
      throw errors.uploadStorageFull(
        'The server does not have the disk space for this file; try again later or ask its operator',
        { size, freeBytes: Math.max(0, free - pending) },
      );
    }
  }

  #staleBefore(): Date {
    return new Date(this.#deps.clock.now().getTime() - COMPLETION_STALE_MS);
  }

  #expiry(): Date {
    return new Date(this.#deps.clock.now().getTime() + this.#deps.limits.sessionTtlSeconds * 1000);
  }
}

function checkSizeAndType(input: CreateUploadInput, limits: UploadLimits): void {
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
}

function handleOfRow(row: UploadRow): MultipartHandle {
  return { key: row.storage_key, uploadId: row.storage_upload_id, size: row.size, partSize: row.chunk_size };
}
