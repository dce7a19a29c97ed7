import type { Readable, Writable } from 'node:stream';

/** An inclusive byte range, as in HTTP Range. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStat {
  size: number;
  lastModified: Date;
  etag: string | undefined;
}

/** A multipart upload in progress: one object assembled from numbered parts. */
export interface MultipartHandle {
  key: string;
  /** Backend id of the upload (S3 UploadId; the local store has none and uses ''). */
  uploadId: string;
  size: number;
  partSize: number;
}

export interface CompletedPart {
  /** 0-based part index (S3 part number index + 1). */
  index: number;
  etag: string | null;
}

/**
 * An object's bytes, or one range of them, opened for sending (the object was there when opened).
 * Use it once: writeTo(), or close() to let it go unsent.
 */
export interface BlobBody {
  /**
   * Writes the bytes to `destination` (an HTTP response whose head is written or pending), ends it
   * and releases the body. A chunk's buffer may be reused once its write callback ran: the destination
   * must have taken the bytes by then (a socket has). Resolves when done, or quietly when the
   * destination closed first (a client gone). A read failing mid-way destroys the destination with
   * the error, and rejects with it.
   */
  writeTo(destination: Writable): Promise<void>;
  /** Releases the body without sending it. Safe after writeTo() and twice. */
  close(): Promise<void>;
}

/**
 * Where bytes live: media sources, renditions, thumbnails. Keys are '/'-separated relative paths
 * built by Reel (never from raw user input).
 */
export interface BlobStore {
  /** Starts an object of a known size that is written part by part, in any order, in parallel. */
  createMultipart(key: string, size: number, partSize: number): Promise<MultipartHandle>;
  /**
   * Writes part `index` (bytes index*partSize …) from a stream of exactly `length` bytes.
   * Rewriting a part replaces it. Returns the part's etag (S3) or null (local).
   */
  writePart(
    handle: MultipartHandle,
    index: number,
    body: Readable,
    length: number,
  ): Promise<{ etag: string | null }>;
  /** Makes the object readable at handle.key. Every part must have been written. */
  completeMultipart(handle: MultipartHandle, parts: CompletedPart[]): Promise<void>;
  /** Frees everything written so far. Safe to call twice. */
  abortMultipart(handle: MultipartHandle): Promise<void>;

  /** Writes a whole object. */
  put(key: string, body: Readable | Buffer | string, contentType?: string): Promise<void>;
  /** Streams an object or one byte range of it. Throws BlobNotFoundError if absent. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * Opens an object or one byte range of it for sending to a client as fast as the store can (local: a
   * file read into reused 1 MiB buffers; S3: the object's stream). Throws BlobNotFoundError if absent,
   * before any byte is written.
   */
  openRange(key: string, range?: ByteRange): Promise<BlobBody>;
  /**
   * Only on stores that can hand out URLs: one that anyone holding it can GET the object from (Range
   * honoured) for `ttlSeconds`, or as long as the store allows (S3: presigned, 7 days at most).
   * Delivery redirects clients to it.
   */
  presign?(key: string, ttlSeconds: number): Promise<string>;
  stat(key: string): Promise<BlobStat | undefined>;
  /** Every key under a prefix ('videos/abc/'), sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  deletePrefix(prefix: string): Promise<number>;
  /**
   * A location ffmpeg/ffprobe can read the object from: a local file path, or a presigned
   * HTTP URL valid for `ttlSeconds`.
   */
  locate(key: string, ttlSeconds?: number): Promise<string>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
  /** Bytes that can still be written, when the store has a bound (a local disk); undefined otherwise. */
  freeBytes(): Promise<number | undefined>;
}

export class BlobNotFoundError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`blob not found: ${key}`);
    this.name = 'BlobNotFoundError';
    this.key = key;
  }
}

/** Rejects a range that is not `start` ≤ `end`, both whole numbers from 0. */
export function assertByteRange(range: ByteRange | undefined): void {
  if (range && !(Number.isInteger(range.start) && range.start >= 0 && range.end >= range.start)) {
    throw new RangeError(`invalid byte range ${range.start}-${range.end}`);
  }
}

const SAFE_KEY = /^(?!\/)(?!.*\/\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._\-/]+$/;

/** Rejects keys that could escape the store's root (absolute, `..`, empty segments, odd characters). */
export function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key)) throw new Error(`unsafe storage key: ${JSON.stringify(key)}`);
}
