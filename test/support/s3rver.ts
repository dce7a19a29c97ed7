import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3StorageConfig } from '../../src/config.ts';

// s3rver is CommonJS without type declarations: describe the little of it used here.
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void> | void;
interface ListedObject {
  key: string;
  size: number;
  lastModifiedDate: Date;
  metadata: Record<string, string>;
}
interface StoredObject {
  bucket: string;
  key: string;
  content: Readable | Buffer;
  metadata: Record<string, string>;
}
interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
  putPart(
    bucket: string,
    uploadId: string,
    partNumber: string,
    content: Readable,
  ): Promise<{ size: number; md5: string }>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ): Promise<{ size: number; md5: string }>;
  getBucket(bucket: string): Promise<object | null>;
  listObjects(
    bucket: string,
    options: { prefix?: string; delimiter?: string; startAfter?: string; maxKeys?: number },
  ): Promise<{ objects: ListedObject[]; commonPrefixes: string[]; isTruncated: boolean }>;
}
interface S3rverInstance {
  middleware: Middleware[];
  store: S3rverStore;
  httpServer?: Server;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
interface S3rverOptions {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
  vhostBuckets: boolean;
}
type S3rverConstructor = new (options: S3rverOptions) => S3rverInstance;
type S3ErrorConstructor = new (code: string, message?: string, details?: Record<string, string>) => Error;

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverConstructor;
const S3Error = require('s3rver/lib/models/error') as S3ErrorConstructor;

export interface RunningS3rver {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  bucket: string;
  /** Ready for S3BlobStore / createBlobStore: path-style, dummy credentials s3rver accepts. */
  config: S3StorageConfig;
  /** The directory s3rver keeps its buckets in (removed by stop()). */
  directory: string;
  stop(): Promise<void>;
}

/**
 * Starts s3rver in-process on 127.0.0.1 (a free port), silent, storing into a fresh temp directory,
 * with one empty bucket. Call stop() to close it and remove the directory.
 */
export async function startS3rver(options: { bucket?: string } = {}): Promise<RunningS3rver> {
  const bucket = options.bucket ?? `reel-test-${randomBytes(4).toString('hex')}`;
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
    vhostBuckets: false,
  });
  durableWrites(server.store);
  checkCompletedParts(server.store);
  // The router is the last middleware: fill s3rver's gaps just before it (after its XML encoder).
  server.middleware.splice(server.middleware.length - 1, 0, multipartUploads(server), listObjectsV2(server));
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    await fs.rm(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    directory,
    config: {
      kind: 's3',
      bucket,
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    },
    async stop() {
      // Clients with keep-alive sockets (every S3Client) would hold close() open.
      const closing = server.close();
      server.httpServer?.closeAllConnections();
      await closing;
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver 3.7.1 answers a PUT (object or part) once the bytes went through its hashing stream, before
 * the file is written: a GET right after can see a short or stale object, and two PUTs of one key
 * interleave. Like S3, make writes complete and atomic: write beside, wait, then rename into place.
 */
function durableWrites(store: S3rverStore): void {
  const writeFile = async (file: string, content: Readable | Buffer) => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const md5 = createHash('md5');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(
        Buffer.isBuffer(content) ? Readable.from([content]) : content,
        measure,
        createWriteStream(temp),
      );
      await fs.rename(temp, file);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    return { size, md5: md5.digest('hex') };
  };
  store.putObject = async (object) => {
    const result = await writeFile(
      store.getResourcePath(object.bucket, object.key, 'object'),
      object.content,
    );
    await store.putMetadata(object.bucket, object.key, object.metadata, result.md5);
    return result;
  };
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    if (!/^[1-9][0-9]{0,4}$/.test(String(partNumber)) || Number(partNumber) > 10_000) {
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
    }
    const partPath = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId, partNumber);
    const result = await writeFile(partPath, content);
    await fs.writeFile(`${partPath}.md5`, result.md5);
    return result;
  };
}

/**
 * s3rver 3.7.1 completes any list of parts (it sorts them, ignores etags and sizes). S3 refuses parts
 * out of ascending order (InvalidPartOrder), unknown parts or etags (InvalidPart), and parts but the
 * last under 5 MiB (EntityTooSmall): do the same, so code that passes here works on S3.
 */
function checkCompletedParts(store: S3rverStore): void {
  const complete = store.putObjectMultipart.bind(store);
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const uploadDir = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    for (const [position, part] of parts.entries()) {
      if (position > 0 && part.number <= parts[position - 1]!.number) {
        throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.');
      }
      const partPath = path.join(uploadDir, String(part.number));
      const [md5, stats] = await Promise.all([
        fs.readFile(`${partPath}.md5`, 'utf8').catch(() => undefined),
        fs.stat(partPath).catch(() => undefined),
      ]);
      if (!stats || md5 !== part.etag) {
        throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found.', {
          PartNumber: String(part.number),
          ETag: part.etag,
        });
      }
      if (position < parts.length - 1 && stats.size < 5 * 1024 * 1024) {
        throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
          PartNumber: String(part.number),
        });
      }
    }
    return complete(bucket, uploadId, parts);
  };
}

/**
 * s3rver 3.7.1 has no AbortMultipartUpload (`DELETE /bucket/key?uploadId=…` answers MethodNotAllowed),
 * and accepts parts for unknown upload ids. Behave like S3: abort frees the parts and answers 204;
 * any request naming an unknown (or finished, or aborted) upload id gets NoSuchUpload (404).
 */
function multipartUploads(server: S3rverInstance): Middleware {
  return async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    const [, bucket, ...key] = ctx.path.split('/');
    if (uploadId === undefined || !bucket || key.length === 0) return next();
    const uploadDir =
      typeof uploadId === 'string' && /^[0-9a-f]+$/i.test(uploadId)
        ? path.join(server.store.getResourcePath(bucket, undefined, 'uploads'), uploadId)
        : undefined;
    const exists =
      uploadDir !== undefined &&
      (await fs.stat(path.join(uploadDir, 'key')).then(
        () => true,
        () => false,
      ));
    if (!exists) {
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', {
        UploadId: String(uploadId),
      });
    }
    if (ctx.method !== 'DELETE') return next();
    await fs.rm(uploadDir, { recursive: true, force: true });
    ctx.status = 204;
  };
}

/**
 * s3rver 3.7.1 encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node ≥ 17) no
 * longer offers: any truncated listing fails with InternalError. Answer ListObjectsV2 here, with the
 * last key as the (opaque) token. Object keys only; requests are not signature-checked.
 */
function listObjectsV2(server: S3rverInstance): Middleware {
  return async (ctx, next) => {
    const [, bucket, ...rest] = ctx.path.split('/');
    if (ctx.method !== 'GET' || ctx.query['list-type'] !== '2' || !bucket || rest.some(Boolean))
      return next();
    if (!(await server.store.getBucket(bucket))) {
      throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    }
    const param = (name: string) => {
      const value = ctx.query[name];
      return typeof value === 'string' && value !== '' ? value : undefined;
    };
    const maxKeys = Math.min(1000, Number(param('max-keys') ?? 1000));
    if (!Number.isInteger(maxKeys) || maxKeys < 0) {
      throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range');
    }
    const token = param('continuation-token');
    const startAfter = token ? Buffer.from(token, 'base64url').toString('utf8') : param('start-after');
    const prefix = param('prefix');
    const delimiter = param('delimiter');
    const result =
      maxKeys === 0
        ? { objects: [], commonPrefixes: [], isTruncated: false }
        : await server.store.listObjects(bucket, { prefix, delimiter, startAfter, maxKeys });
    const last = result.objects.at(-1);
    ctx.body = {
      ListBucketResult: {
        '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
        Name: bucket,
        Prefix: prefix ?? '',
        StartAfter: token ? undefined : startAfter,
        ContinuationToken: token,
        NextContinuationToken:
          result.isTruncated && last ? Buffer.from(last.key, 'utf8').toString('base64url') : undefined,
        KeyCount: result.objects.length + result.commonPrefixes.length,
        MaxKeys: maxKeys,
        Delimiter: delimiter,
        IsTruncated: result.isTruncated,
        Contents: result.objects.map((object) => ({
          Key: object.key,
          LastModified: object.lastModifiedDate.toISOString(),
          ETag: object.metadata.etag,
          Size: object.size,
          StorageClass: 'STANDARD',
        })),
        CommonPrefixes: result.commonPrefixes.map((commonPrefix) => ({ Prefix: commonPrefix })),
      },
    };
  };
}
