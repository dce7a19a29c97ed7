import type { Readable } from 'node:stream';

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
 * Where bytes live: media sources, renditions, thumbnails. Keys are '/'-separated relative paths
 * built by Reel (never from raw user input).
 */
export interface BlobStore {
  readonly kind: 'local' | 's3';

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
  stat(key: string): Promise<BlobStat | undefined>;
  /** Every key under a prefix ('videos/abc/'), sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  deletePrefix(prefix: string): Promise<number>;
  /** Copies an object (publish-by-copy); the source stays. */
  copy(fromKey: string, toKey: string): Promise<void>;
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

const SAFE_KEY = /^(?!\/)(?!.*\/\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._\-/]+$/;

/** Rejects keys that could escape the store's root (absolute, `..`, empty segments, odd characters). */
export function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key)) throw new Error(`unsafe storage key: ${JSON.stringify(key)}`);
}
