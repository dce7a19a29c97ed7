import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { streamBody } from './blob-body.ts';
import {
  assertByteRange,
  assertSafeKey,
  type BlobBody,
  BlobNotFoundError,
  type BlobStat,
  type BlobStore,
  type ByteRange,
  type CompletedPart,
  type MultipartHandle,
} from './blob-store.ts';

const MiB = 1024 * 1024;
/** S3 limits: every part but the last ≥ 5 MiB, at most 5 GiB, at most 10 000 parts. */
const MIN_PART_SIZE = 5 * MiB;
const MAX_PART_SIZE = 5 * 1024 * MiB;
const MAX_PARTS = 10_000;
const DELETE_BATCH = 1000;
const DEFAULT_URL_TTL_SECONDS = 3600;
const MAX_URL_TTL_SECONDS = 7 * 24 * 3600;

export interface S3BlobStoreOptions {
  bucket: string;
  region: string;
  endpoint?: string | undefined;
  forcePathStyle: boolean;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
}

/**
 * Objects in one S3 (or S3-compatible) bucket. A multipart upload is an S3 multipart upload:
 * chunk index n is part number n + 1, written straight from the request stream.
 */
export class S3BlobStore implements BlobStore {
  readonly bucket: string;
  readonly client: S3Client;

  constructor(options: S3BlobStoreOptions | { client: S3Client; bucket: string }) {
    this.bucket = options.bucket;
    this.client = 'client' in options ? options.client : createS3Client(options);
  }

  async createMultipart(key: string, size: number, partSize: number): Promise<MultipartHandle> {
    assertSafeKey(key);
    checkPartLayout(size, partSize);
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }),
    );
    if (!UploadId) throw new Error(`S3 returned no UploadId for ${key}`);
    return { key, uploadId: UploadId, size, partSize };
  }

  async writePart(handle: MultipartHandle, index: number, body: Readable, length: number) {
    const expected = partLength(handle, index);
    if (length !== expected) {
      body.destroy();
      throw new RangeError(`part ${index} of ${handle.key} must be ${expected} bytes, not ${length}`);
    }
    // The SDK pipes the body into the request without watching it for errors: abort the request
    // ourselves when the source fails or does not hold exactly `length` bytes.
    const counted = exactLength(length, `part ${index} of ${handle.key}`);
    const controller = new AbortController();
    let bodyError: unknown;
    const piped = pipeline(body, counted).catch((error: unknown) => {
      bodyError ??= error;
      controller.abort(error);
    });
    let etag: string | undefined;
    try {
      ({ ETag: etag } = await this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: handle.key,
          UploadId: handle.uploadId,
          PartNumber: index + 1,
          ContentLength: length,
          Body: counted,
        }),
        { abortSignal: controller.signal },
      ));
    } catch (error) {
      if (bodyError) throw bodyError;
      counted.destroy();
      if (errorName(error) === 'NoSuchUpload') throw new BlobNotFoundError(handle.key);
      throw error;
    }
    // S3 answers once it has `length` bytes: make sure the source really ended there.
    counted.resume();
    await piped;
    if (bodyError) throw bodyError;
    return { etag: etag ?? null };
  }

  async completeMultipart(handle: MultipartHandle, parts: CompletedPart[]): Promise<void> {
    assertEveryPart(handle, parts);
    const sorted = [...parts].sort((a, b) => a.index - b.index);
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: handle.key,
          UploadId: handle.uploadId,
          MultipartUpload: {
            Parts: sorted.map((part) => {
              if (!part.etag) throw new Error(`part ${part.index} of ${handle.key} has no etag`);
              return { PartNumber: part.index + 1, ETag: part.etag };
            }),
          },
        }),
      );
    } catch (error) {
      if (errorName(error) === 'NoSuchUpload') throw new BlobNotFoundError(handle.key);
      throw error;
    }
  }

  async abortMultipart(handle: MultipartHandle): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: handle.key, UploadId: handle.uploadId }),
      );
    } catch (error) {
      if (errorName(error) !== 'NoSuchUpload') throw error;
    }
  }

  async put(key: string, body: Readable | Buffer | string, contentType?: string): Promise<void> {
    assertSafeKey(key);
    if (body instanceof Readable) {
      // Unknown length: lib-storage buffers one 5 MiB part at a time (multipart above that size).
      await new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType },
      }).done();
      return;
    }
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: Buffer.byteLength(body),
        ContentType: contentType,
      }),
    );
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    assertSafeKey(key);
    assertByteRange(range);
    try {
      const { Body } = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      if (!(Body instanceof Readable)) throw new Error(`S3 returned no body stream for ${key}`);
      return Body;
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(key);
      throw error;
    }
  }

  /** The object's stream as S3 sends it (a ranged GET for a range). */
  async openRange(key: string, range?: ByteRange): Promise<BlobBody> {
    return streamBody(await this.read(key, range));
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    assertSafeKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        size: head.ContentLength ?? 0,
        lastModified: head.LastModified ?? new Date(0),
        etag: head.ETag,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertSafePrefix(prefix);
    const keys: string[] = [];
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: prefix });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    }
    // S3 already lists in UTF-8 byte order; sort anyway for S3-compatible stores that do not.
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      const { Errors } = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      if (Errors?.length) {
        const first = Errors[0]!;
        throw new Error(
          `could not delete ${Errors.length} object(s) under ${prefix}: ${first.Key}: ${first.Code} ${first.Message}`,
        );
      }
    }
    return keys.length;
  }

  /** A presigned GET URL; SigV4 URLs live at most 7 days, so a longer `ttlSeconds` gets 7 days. */
  async presign(key: string, ttlSeconds: number): Promise<string> {
    assertSafeKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: Math.min(ttlSeconds, MAX_URL_TTL_SECONDS),
    });
  }

  /** ffmpeg reads objects over HTTP: a presigned URL. */
  locate(key: string, ttlSeconds = DEFAULT_URL_TTL_SECONDS): Promise<string> {
    return this.presign(key, ttlSeconds);
  }

  /** A bucket has no size bound Reel could read. */
  async freeBytes(): Promise<undefined> {
    return undefined;
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }
}

export function createS3Client(options: S3BlobStoreOptions): S3Client {
  return new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials:
      options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
    // Since 2025 the SDK adds CRC checksums to every upload by default, streaming ones as
    // `aws-chunked` bodies with trailers, which many S3-compatible stores (s3rver, older MinIO,
    // Ceph, …) reject or store verbatim. Send checksums only where the API requires them; chunk
    // integrity is checked upstream with the upload's Content-Digest.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function checkPartLayout(size: number, partSize: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid object size ${size}`);
  if (!Number.isSafeInteger(partSize) || partSize <= 0 || partSize > MAX_PART_SIZE) {
    throw new RangeError(`invalid part size ${partSize}`);
  }
  const count = Math.ceil(size / partSize);
  if (count > 1 && partSize < MIN_PART_SIZE) {
    throw new RangeError(`S3 parts must be at least ${MIN_PART_SIZE} bytes (except the last)`);
  }
  if (count > MAX_PARTS) throw new RangeError(`${count} parts exceed S3's limit of ${MAX_PARTS}`);
}

function partLength(handle: MultipartHandle, index: number): number {
  const count = Math.ceil(handle.size / handle.partSize);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`part ${index} is outside ${handle.key} (${count} parts)`);
  }
  return Math.min(handle.partSize, handle.size - index * handle.partSize);
}

/** S3 completes an upload even with gaps in the part numbers: refuse a silently short object. */
function assertEveryPart(handle: MultipartHandle, parts: CompletedPart[]): void {
  const count = Math.ceil(handle.size / handle.partSize);
  const indexes = new Set(parts.map((part) => part.index));
  if (indexes.size !== parts.length) throw new Error(`duplicate parts for ${handle.key}`);
  for (let index = 0; index < count; index++) {
    if (!indexes.has(index)) throw new Error(`part ${index} of ${handle.key} is missing`);
  }
  if (parts.length !== count) throw new RangeError(`${handle.key} has ${count} parts, got ${parts.length}`);
}

/** Passes a stream through, failing it if it holds more or fewer than `length` bytes. */
function exactLength(length: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > length) callback(new RangeError(`${what}: body is longer than ${length} bytes`));
      else callback(null, chunk);
    },
    flush(callback) {
      callback(
        seen === length ? null : new RangeError(`${what}: body ended after ${seen} of ${length} bytes`),
      );
    },
  });
}

function assertSafePrefix(prefix: string): void {
  if (prefix !== '') assertSafeKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  if (name === 'NoSuchKey' || name === 'NotFound') return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  return status === 404 && name !== 'NoSuchBucket';
}
