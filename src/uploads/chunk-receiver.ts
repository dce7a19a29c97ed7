import type { Readable } from 'node:stream';
import { type AppError, errors } from '../errors.ts';
import { SNIFF_BYTES, sniffContainer } from '../media/sniff.ts';
import { newId } from '../platform/ids.ts';
import type { BlobStore, MultipartHandle } from '../platform/storage/blob-store.ts';
import {
  ChunkAbortedError,
  ChunkClaimLostError,
  ChunkIdleError,
  ChunkLengthError,
  ChunkMeter,
} from './chunk-meter.ts';
import { expectedChunkLength, parseContentDigest } from './chunks.ts';
import type { ChunkClaim, UploadRepository, UploadRow } from './upload-repository.ts';

/**
 * A claim is renewed every LEASE/4 while bytes arrive; a writer that could not renew for LEASE/2 stops
 * writing, so a takeover (only after LEASE) never overlaps a live writer.
 */
const CLAIM_LEASE_SECONDS = 20;
/** A request for a chunk another request is writing waits this long for the outcome before a 409. */
const CLAIM_WAIT_MS = 10_000;
const CLAIM_POLL_MS = 50;

export interface ChunkHeaders {
  contentDigest: string | undefined;
  contentLength: number | undefined;
}

export interface ChunkReceipt {
  index: number;
  duplicate: boolean;
  receivedChunks: number;
  totalChunks: number;
}

export interface ChunkReceiverDeps {
  uploads: UploadRepository;
  store: BlobStore;
  idleTimeoutMs: number;
  handleOf(row: UploadRow): MultipartHandle;
  /** The session's next expiry (sliding). */
  expiry(): Date;
  now(): number;
}

/**
 * Receives one chunk: claims its index, streams the body to storage while hashing it, and records it
 * only if the bytes match the declared digest. For one (upload, index) the stored bytes and the
 * recorded digest always come from the same request, on every store and across API nodes:
 * - a received chunk is never rewritten: the same digest again is an idempotent success, another
 *   digest is 409 UPLOAD_CHUNK_CONFLICT;
 * - a request for a chunk another request is writing waits (its body unread) for that outcome: then
 *   it is a duplicate, a conflict, or — if the other failed — it writes its own bytes. After
 *   CLAIM_WAIT_MS it gets 409 UPLOAD_CHUNK_IN_PROGRESS with Retry-After.
 */
export class ChunkReceiver {
  readonly #deps: ChunkReceiverDeps;

  constructor(deps: ChunkReceiverDeps) {
    this.#deps = deps;
  }

  async receive(row: UploadRow, index: number, body: Readable, headers: ChunkHeaders): Promise<ChunkReceipt> {
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
      throw wrongSize(index, expectedLength, headers.contentLength);
    }
    const declared = digest.toString('base64');
    const writer = newId();
    const settled = await this.#claim(row, { idx: index, size: expectedLength, digest: declared, writer });
    if (settled) {
      body.resume(); // nothing will be stored: let the request body drain
      return settled;
    }
    try {
      const etag = await this.#write(row, index, body, expectedLength, digest, writer);
      const recorded = await this.#deps.uploads.recordChunk(
        row.id,
        { idx: index, writer, etag },
        this.#deps.expiry(),
      );
      if (!recorded) throw await this.#notRecorded(row.id, index);
      return this.#receipt(row, index, false);
    } catch (error) {
      await this.#deps.uploads.releaseChunkClaim(row.id, index, writer).catch(() => {});
      throw error;
    }
  }

  /** Streams the body through the meter and a lease guard into the chunk's place in storage. */
  async #write(
    row: UploadRow,
    index: number,
    body: Readable,
    expectedLength: number,
    digest: Buffer,
    writer: string,
  ): Promise<string | null> {
    const lease = new ClaimLease(
      () => this.#deps.uploads.renewChunkClaim(row.id, index, writer, CLAIM_LEASE_SECONDS),
      this.#deps.now,
    );
    const meter = new ChunkMeter({
      length: expectedLength,
      headBytes: index === 0 ? SNIFF_BYTES : 0,
      idleTimeoutMs: this.#deps.idleTimeoutMs,
      mayContinue: () => lease.held(),
    });
    let etag: string | null;
    try {
      const source = meter.consume(body);
      ({ etag } = await this.#deps.store.writePart(this.#deps.handleOf(row), index, source, expectedLength));
    } catch (error) {
      throw translateBodyError(meter.failure ?? error, index, expectedLength, meter.length);
    } finally {
      lease.stop();
    }
    const actual = meter.digest();
    if (!actual.equals(digest)) {
      throw errors.uploadChunkDigestMismatch(
        `Chunk ${index} does not match its Content-Digest; send it again`,
        { index, expected: digest.toString('base64'), actual: actual.toString('base64') },
      );
    }
    if (index === 0 && !sniffContainer(meter.head())) {
      throw errors.uploadTypeNotAllowed('The file does not start like any video container Reel accepts', {
        index,
      });
    }
    return etag;
  }

  /**
   * Claims the index for this request (undefined: go on and write), or settles the request without
   * touching the bytes when the chunk was already received.
   */
  async #claim(row: UploadRow, claim: ChunkClaim): Promise<ChunkReceipt | undefined> {
    const { uploads } = this.#deps;
    const deadline = this.#deps.now() + CLAIM_WAIT_MS;
    for (;;) {
      if (await uploads.claimChunk(row.id, claim, CLAIM_LEASE_SECONDS)) return undefined;
      const slot = await uploads.findChunk(row.id, claim.idx);
      if (slot?.state === 'received') {
        if (slot.digest !== claim.digest) {
          throw errors.uploadChunkConflict(`Chunk ${claim.idx} was already received with different content`, {
            index: claim.idx,
          });
        }
        return this.#receipt(row, claim.idx, true);
      }
      if (!slot) {
        // Released by a writer that failed (try again), or the session is no longer active.
        const session = await uploads.find(row.id);
        if (session?.state !== 'active') {
          throw errors.uploadNotActive('The upload session is no longer accepting chunks');
        }
        continue;
      }
      if (this.#deps.now() >= deadline) throw chunkInProgress(claim.idx, slot.leaseSeconds);
      await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
    }
  }

  async #notRecorded(id: string, index: number): Promise<AppError> {
    const session = await this.#deps.uploads.find(id);
    if (session?.state !== 'active') {
      return errors.uploadNotActive('The upload session is no longer accepting chunks');
    }
    return chunkInProgress(index, CLAIM_LEASE_SECONDS); // our claim ran out and was taken over
  }

  async #receipt(row: UploadRow, index: number, duplicate: boolean): Promise<ChunkReceipt> {
    const received = await this.#deps.uploads.countChunks(row.id);
    return { index, duplicate, receivedChunks: received, totalChunks: row.total_chunks };
  }
}

/** Keeps a chunk claim alive while its bytes stream in. */
class ClaimLease {
  readonly #renew: () => Promise<boolean>;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;
  #renewedAt: number;
  #lost = false;

  constructor(renew: () => Promise<boolean>, now: () => number) {
    this.#renew = renew;
    this.#now = now;
    this.#renewedAt = now();
    this.#timer = setInterval(() => void this.#tick(), (CLAIM_LEASE_SECONDS * 1000) / 4);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const started = this.#now();
    const renewed = await this.#renew().catch(() => undefined);
    if (renewed === true) this.#renewedAt = started;
    if (renewed === false) this.#lost = true;
  }

  /** Whether writing may go on: the claim is ours and was confirmed recently enough. */
  held(): boolean {
    return !this.#lost && this.#now() - this.#renewedAt < (CLAIM_LEASE_SECONDS * 1000) / 2;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function chunkInProgress(index: number, leaseSeconds: number | null): AppError {
  const retryAfter = Math.max(1, Math.min(CLAIM_LEASE_SECONDS, leaseSeconds ?? 1));
  return errors.uploadChunkInProgress(
    retryAfter,
    `Chunk ${index} is being received by another request; retry in ${retryAfter} s`,
    { index },
  );
}

function wrongSize(index: number, expected: number, actual: number): AppError {
  return errors.uploadChunkSizeInvalid(`Chunk ${index} must be ${expected} bytes, got ${actual}`, {
    index,
    expected,
    actual,
  });
}

/** The body's own failures become client errors (4xx, logged at info); anything else stays as it is. */
function translateBodyError(error: unknown, index: number, expected: number, received: number): unknown {
  if (error instanceof ChunkLengthError) return wrongSize(index, expected, error.length);
  if (error instanceof ChunkIdleError) {
    return errors.uploadChunkTimeout(`Chunk ${index} made no progress for ${error.seconds} s`, {
      index,
      receivedBytes: received,
    });
  }
  if (error instanceof ChunkClaimLostError) return chunkInProgress(index, CLAIM_LEASE_SECONDS);
  if (error instanceof ChunkAbortedError) {
    return errors.requestAborted(`The client stopped sending chunk ${index}`, {
      index,
      receivedBytes: received,
    });
  }
  return error;
}
