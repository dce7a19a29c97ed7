import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileRangeBody } from './blob-body.ts';
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

// A 1 MiB read buffer roughly doubles file-serving throughput over the 64 KiB default (DESIGN.md).
const READ_BUFFER = 1024 * 1024;
const PENDING_SUFFIX = '.partial';

/**
 * Files under one directory. A multipart upload is one sparse file written at offsets (no merge pass),
 * named `<key>.partial` until completed, then renamed into place.
 */
export class LocalBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  pathOf(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, key);
  }

  async createMultipart(key: string, size: number, partSize: number): Promise<MultipartHandle> {
    const file = this.pathOf(key) + PENDING_SUFFIX;
    await fs.mkdir(path.dirname(file), { recursive: true });
    const handle = await fs.open(file, 'w');
    try {
      await handle.truncate(size);
    } finally {
      await handle.close();
    }
    return { key, uploadId: '', size, partSize };
  }

  async writePart(handle: MultipartHandle, index: number, body: Readable, length: number) {
    const count = Math.ceil(handle.size / handle.partSize);
    const start = index * handle.partSize;
    const expected = Math.min(handle.partSize, handle.size - start);
    if (!Number.isInteger(index) || index < 0 || index >= count || length !== expected) {
      body.destroy();
      throw new RangeError(`part ${index} of ${handle.key} must be one of ${count} parts, ${expected} bytes`);
    }
    const file = this.pathOf(handle.key) + PENDING_SUFFIX;
    const output = await fs.open(file, 'r+').catch((error: NodeJS.ErrnoException) => {
      body.destroy();
      throw error.code === 'ENOENT' ? new BlobNotFoundError(handle.key) : error;
    });
    // Positional writes, never past this part: a longer body must not spill into the next part.
    let written = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (written + chunk.length > length) {
          throw new RangeError(`part ${index}: body is longer than ${length} bytes`);
        }
        await output.write(chunk, 0, chunk.length, start + written);
        written += chunk.length;
      }
    } finally {
      await output.close();
    }
    if (written !== length) {
      throw new RangeError(`part ${index}: body ended after ${written} of ${length} bytes`);
    }
    return { etag: null };
  }

  async completeMultipart(handle: MultipartHandle, parts: CompletedPart[]): Promise<void> {
    // Every part must be listed once: a missing one would leave a run of zeros in the object.
    const count = Math.ceil(handle.size / handle.partSize);
    const indexes = new Set(parts.map((part) => part.index));
    for (let index = 0; index < count; index++) {
      if (!indexes.has(index)) throw new Error(`part ${index} of ${handle.key} is missing`);
    }
    if (indexes.size !== parts.length || parts.length !== count) {
      throw new RangeError(`${handle.key} has ${count} parts, got ${parts.length}`);
    }
    await fs
      .rename(this.pathOf(handle.key) + PENDING_SUFFIX, this.pathOf(handle.key))
      .catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'ENOENT' ? new BlobNotFoundError(handle.key) : error;
      });
  }

  async abortMultipart(handle: MultipartHandle): Promise<void> {
    await fs.rm(this.pathOf(handle.key) + PENDING_SUFFIX, { force: true });
  }

  async put(key: string, body: Readable | Buffer | string): Promise<void> {
    const file = this.pathOf(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    // Write beside, then rename: readers never see a half-written object.
    // A random name: two concurrent puts of one key must not share a temp file.
    const temp = `${file}.${randomUUID()}.tmp`;
    try {
      if (typeof body === 'string' || Buffer.isBuffer(body)) await fs.writeFile(temp, body);
      else await pipeline(body, createWriteStream(temp));
      await fs.rename(temp, file);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const { handle } = await openObject(this.pathOf(key), key);
    return createReadStream('', {
      fd: handle,
      start: range?.start,
      end: range?.end,
      highWaterMark: READ_BUFFER,
    });
  }

  /** The file itself, sent through reused buffers (file-range-writer.ts): nothing allocated per chunk. */
  async openRange(key: string, range?: ByteRange): Promise<BlobBody> {
    assertByteRange(range);
    // locate() is the validated path of the key inside the root.
    const { handle, size } = await openObject(await this.locate(key), key);
    return fileRangeBody(handle, range?.start ?? 0, range?.end ?? size - 1);
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    const stats = await fs.stat(this.pathOf(key)).catch(() => undefined);
    if (!stats?.isFile()) return undefined;
    return { size: stats.size, lastModified: stats.mtime, etag: undefined };
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.root;
    // Walk only the directory the prefix points into, not the whole store.
    const directory = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = directory ? this.pathOf(directory) : base;
    const entries = await fs.readdir(start, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(base, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
      .filter((key) => key.startsWith(prefix) && !key.endsWith(PENDING_SUFFIX) && !key.endsWith('.tmp'))
      .sort();
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    await Promise.all(keys.map((key) => this.delete(key)));
    // Remove the directory itself when the prefix names one, partial files included.
    if (prefix.endsWith('/') && prefix.length > 1) {
      await fs.rm(this.pathOf(prefix.slice(0, -1)), { recursive: true, force: true });
    }
    return keys.length;
  }

  async locate(key: string): Promise<string> {
    return this.pathOf(key);
  }

  async ping(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    await fs.access(this.root, fs.constants.W_OK);
  }

  async freeBytes(): Promise<number> {
    await fs.mkdir(this.root, { recursive: true });
    const stats = await fs.statfs(this.root);
    return stats.bavail * stats.bsize;
  }
}

/** Opens the file of an object for reading; BlobNotFoundError when there is none. */
async function openObject(file: string, key: string): Promise<{ handle: FileHandle; size: number }> {
  const handle = await fs.open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOENT' || error.code === 'ENOTDIR' ? new BlobNotFoundError(key) : error;
  });
  const stats = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  // open(2) succeeds on a directory (reads then fail with EISDIR): a directory is no object.
  if (!stats.isFile()) {
    await handle.close();
    throw new BlobNotFoundError(key);
  }
  return { handle, size: stats.size };
}
