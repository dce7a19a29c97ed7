import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BlobNotFoundError, type BlobStore, type CompletedPart, type MultipartHandle } from './blob-store.ts';
import { deliveryContract } from './blob-store-delivery.contract.ts';

const MiB = 1024 * 1024;
/** S3's smallest part size (every part but the last). */
const PART = 5 * MiB;

export interface ContractSubject {
  store: BlobStore;
  cleanup(): Promise<void>;
  /**
   * Bytes the backend holds on disk, finished or not (optional): lets the suite check that an
   * abort really frees what was written.
   */
  storedBytes?(): Promise<number>;
  /** Whether the store hands out URLs (`presign`): no store may lose that unnoticed. */
  presigns: boolean;
}

/**
 * The behaviour every BlobStore must have. Registers node:test suites; `makeStore` is called once
 * and must give an empty store.
 */
export function blobStoreContract(name: string, makeStore: () => Promise<ContractSubject>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: BlobStore;
    before(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    after(async () => {
      await subject?.cleanup();
    });

    describe('multipart', () => {
      it('assembles parts written out of order and in parallel into the exact bytes', async () => {
        const data = randomBytes(3 * PART + 12_345);
        const key = 'mp/ordered/source.mp4';
        const handle = await store.createMultipart(key, data.length, PART);
        assert.equal(handle.key, key);
        assert.equal(handle.size, data.length);
        assert.equal(handle.partSize, PART);
        const parts = await Promise.all([3, 1, 0, 2].map((index) => writePart(store, handle, data, index)));

        // Not visible before completion.
        assert.equal(await store.stat(key), undefined);
        assert.deepEqual(await store.list('mp/ordered/'), []);
        await assert.rejects(store.read(key), BlobNotFoundError);

        await store.completeMultipart(handle, parts);
        assert.equal(sha256(await readAll(store, key)), sha256(data));
        assert.equal((await store.stat(key))?.size, data.length);
        assert.deepEqual(await store.list('mp/ordered/'), [key]);
      });

      it('replaces a part that is written again', async () => {
        const data = randomBytes(PART + 100);
        const key = 'mp/rewrite/source.mp4';
        const handle = await store.createMultipart(key, data.length, PART);
        const garbage = randomBytes(PART);
        await store.writePart(handle, 0, chunked(garbage), PART);
        const second = await writePart(store, handle, data, 1);
        const first = await writePart(store, handle, data, 0);
        await store.completeMultipart(handle, [second, first]);
        assert.equal(sha256(await readAll(store, key)), sha256(data));
      });

      it('refuses a part whose body is shorter or longer than announced, and stays usable', async () => {
        const data = randomBytes(1000);
        const key = 'mp/lengths/source.mp4';
        const handle = await store.createMultipart(key, data.length, PART);
        await assert.rejects(store.writePart(handle, 0, chunked(data.subarray(0, 600)), 1000), RangeError);
        await assert.rejects(store.writePart(handle, 0, chunked(randomBytes(1500)), 1000), RangeError);
        // Exactly `length` bytes first, more a moment later (after S3 could have answered).
        const spill = Readable.from(
          (async function* () {
            yield data;
            await new Promise((resolve) => setTimeout(resolve, 150));
            yield randomBytes(10);
          })(),
        );
        await assert.rejects(store.writePart(handle, 0, spill, 1000), RangeError);
        // Announcing a length other than the part's size is refused before any byte is written.
        await assert.rejects(store.writePart(handle, 0, chunked(data.subarray(0, 999)), 999), RangeError);
        await assert.rejects(store.writePart(handle, 1, chunked(data), 1000), RangeError);

        const part = await writePart(store, handle, data, 0);
        await store.completeMultipart(handle, [part]);
        assert.deepEqual(await readAll(store, key), data);
      });

      it('refuses to complete while a part is missing', async () => {
        const data = randomBytes(2 * PART + 10);
        const key = 'mp/missing/source.mp4';
        const handle = await store.createMultipart(key, data.length, PART);
        const parts = await Promise.all([0, 2].map((index) => writePart(store, handle, data, index)));
        await assert.rejects(store.completeMultipart(handle, parts));
        assert.equal(await store.stat(key), undefined);

        parts.push(await writePart(store, handle, data, 1));
        await store.completeMultipart(handle, parts);
        assert.equal(sha256(await readAll(store, key)), sha256(data));
      });

      it('abort frees the upload; aborting twice is fine', async () => {
        const data = randomBytes(PART + 10);
        const key = 'mp/aborted/source.mp4';
        const before = await subject.storedBytes?.();
        const handle = await store.createMultipart(key, data.length, PART);
        const parts = await Promise.all([0, 1].map((index) => writePart(store, handle, data, index)));
        const during = await subject.storedBytes?.();

        await store.abortMultipart(handle);
        await store.abortMultipart(handle);

        assert.equal(await store.stat(key), undefined);
        assert.deepEqual(await store.list('mp/aborted/'), []);
        await assert.rejects(store.read(key), BlobNotFoundError);
        await assert.rejects(
          store.writePart(handle, 0, chunked(data.subarray(0, PART)), PART),
          BlobNotFoundError,
        );
        await assert.rejects(store.completeMultipart(handle, parts), BlobNotFoundError);
        assert.equal(await store.stat(key), undefined);
        if (before !== undefined && during !== undefined) {
          assert.ok(during >= before + data.length, `the parts were stored (${before} → ${during})`);
          assert.ok((await subject.storedBytes!()) <= before, 'abort released the stored parts');
        }
      });
    });

    describe('whole objects', () => {
      it('put then read returns the same bytes, from a Buffer, a string or a stream', async () => {
        const buffer = randomBytes(70_000);
        await store.put('put/buffer.bin', buffer, 'application/octet-stream');
        await store.put('put/text.m3u8', '#EXTM3U\n#EXT-X-VERSION:7\n', 'application/vnd.apple.mpegurl');
        await store.put('put/stream.bin', chunked(buffer, 4096));
        assert.deepEqual(await readAll(store, 'put/buffer.bin'), buffer);
        assert.equal((await readAll(store, 'put/text.m3u8')).toString(), '#EXTM3U\n#EXT-X-VERSION:7\n');
        assert.deepEqual(await readAll(store, 'put/stream.bin'), buffer);
      });

      it('put replaces an object, and concurrent puts of one key leave one whole version', async () => {
        await store.put('put/replaced.txt', 'first version');
        await store.put('put/replaced.txt', 'second');
        assert.equal((await readAll(store, 'put/replaced.txt')).toString(), 'second');

        const versions = Array.from({ length: 12 }, (_, index) => randomBytes(20_000 + index));
        await Promise.all(versions.map((version) => store.put('put/raced.bin', version)));
        const stored = await readAll(store, 'put/raced.bin');
        assert.ok(
          versions.some((version) => version.equals(stored)),
          'the object is one of the versions written',
        );
        assert.deepEqual(await store.list('put/raced'), ['put/raced.bin']);
      });

      it('reads byte ranges: start, middle, end, a single byte', async () => {
        const data = randomBytes(10_000);
        await store.put('range/object.bin', data);
        for (const [start, end] of [
          [0, 99],
          [4321, 6789],
          [9900, 9999],
          [5000, 5000],
          [0, 9999],
        ] as const) {
          const bytes = await readAll(store, 'range/object.bin', { start, end });
          assert.deepEqual(bytes, data.subarray(start, end + 1), `bytes ${start}-${end}`);
        }
      });

      it('read of a missing key throws BlobNotFoundError, also with a range or for a "directory"', async () => {
        await assert.rejects(store.read('missing/nothing.bin'), (error: unknown) => {
          assert.ok(error instanceof BlobNotFoundError);
          assert.equal(error.key, 'missing/nothing.bin');
          return true;
        });
        await assert.rejects(store.read('missing/nothing.bin', { start: 0, end: 9 }), BlobNotFoundError);
        await store.put('missing/dir/child.txt', 'child');
        await assert.rejects(store.read('missing/dir'), BlobNotFoundError);
        assert.equal(await store.stat('missing/dir'), undefined);
      });

      it('stat gives the size of a present object and undefined for an absent one', async () => {
        const startedAt = Date.now();
        await store.put('stat/present.bin', randomBytes(4321));
        await store.put('stat/empty.txt', '');
        const stat = await store.stat('stat/present.bin');
        assert.ok(stat);
        assert.equal(stat.size, 4321);
        assert.ok(stat.lastModified instanceof Date);
        // Second-resolution clocks (HTTP dates) round down.
        assert.ok(stat.lastModified.getTime() >= startedAt - 2000, 'lastModified is recent');
        assert.ok(stat.lastModified.getTime() <= Date.now() + 2000, 'lastModified is not in the future');
        assert.equal((await store.stat('stat/empty.txt'))?.size, 0);
        assert.equal(await store.stat('stat/absent.bin'), undefined);
      });

      it('delete removes an object; deleting a missing one is fine', async () => {
        await store.put('delete/a.txt', 'a');
        await store.put('delete/b.txt', 'b');
        await store.delete('delete/a.txt');
        await store.delete('delete/a.txt');
        await store.delete('delete/never-was.txt');
        assert.equal(await store.stat('delete/a.txt'), undefined);
        await assert.rejects(store.read('delete/a.txt'), BlobNotFoundError);
        assert.deepEqual(await store.list('delete/'), ['delete/b.txt']);
      });
    });

    describe('prefixes', () => {
      it('list returns the keys under a prefix, sorted, without other prefixes or unfinished uploads', async () => {
        for (const key of ['ls/b/1.ts', 'ls/a/2.ts', 'ls/a10', 'ls/a/1.ts', 'ls/a/sub/3.ts', 'lsx/a/1.ts']) {
          await store.put(key, key);
        }
        const pending = await store.createMultipart('ls/a/pending.mp4', 10, PART);
        await store.writePart(pending, 0, chunked(Buffer.from('0123456789')), 10);

        assert.deepEqual(await store.list('ls/a/'), ['ls/a/1.ts', 'ls/a/2.ts', 'ls/a/sub/3.ts']);
        assert.deepEqual(await store.list('ls/a'), ['ls/a/1.ts', 'ls/a/2.ts', 'ls/a/sub/3.ts', 'ls/a10']);
        assert.deepEqual(await store.list('ls/'), [
          'ls/a/1.ts',
          'ls/a/2.ts',
          'ls/a/sub/3.ts',
          'ls/a10',
          'ls/b/1.ts',
        ]);
        assert.deepEqual(await store.list('ls/none/'), []);
        assert.deepEqual(await store.list('nothing-here/'), []);
        await store.abortMultipart(pending);
      });

      it('deletePrefix removes only that prefix and says how many objects it removed', async () => {
        for (const key of ['dp/x/1', 'dp/x/2', 'dp/x/sub/3', 'dp/x-sibling', 'dp/y/1', 'dpx/1']) {
          await store.put(key, key);
        }
        assert.equal(await store.deletePrefix('dp/x/'), 3);
        assert.deepEqual(await store.list('dp'), ['dp/x-sibling', 'dp/y/1', 'dpx/1']);
        assert.equal(await store.stat('dp/x/sub/3'), undefined);
        assert.equal(await store.deletePrefix('dp/x/'), 0);
        // The prefix can be written to again.
        await store.put('dp/x/again', 'again');
        assert.deepEqual(await store.list('dp/x/'), ['dp/x/again']);
      });

      it('list and deletePrefix go past one page of 1000 keys', async () => {
        const keys = Array.from({ length: 1010 }, (_, index) => `many/${String(index).padStart(4, '0')}.m4s`);
        await inParallel(keys, 32, (key) => store.put(key, key));
        const listed = await store.list('many/');
        assert.equal(listed.length, keys.length);
        assert.deepEqual(listed, keys);
        assert.equal(await store.deletePrefix('many/'), keys.length);
        assert.deepEqual(await store.list('many/'), []);
      });
    });

    deliveryContract(() => subject);

    describe('locate and ping', () => {
      it('locate gives a location ffprobe can read the bytes from: a URL or an absolute path', async () => {
        const data = randomBytes(50_000);
        await store.put('locate/clip.mp4', data, 'video/mp4');
        const location = await store.locate('locate/clip.mp4', 600);
        if (/^https?:\/\//.test(location)) {
          const whole = await fetch(location);
          assert.equal(whole.status, 200);
          assert.deepEqual(Buffer.from(await whole.arrayBuffer()), data);
          // ffprobe seeks with ranged GETs.
          const part = await fetch(location, { headers: { range: 'bytes=1000-1999' } });
          assert.equal(part.status, 206);
          assert.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(1000, 2000));
        } else {
          assert.ok(path.isAbsolute(location), `${location} is an absolute path`);
          assert.deepEqual(await fs.readFile(location), data);
        }
      });

      it('ping resolves when the store is reachable', async () => {
        await store.ping();
      });
    });
  });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A stream of `data` in chunks, like a request body arriving from the network. */
function chunked(data: Buffer, size = 256 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
    })(),
  );
}

async function writePart(
  store: BlobStore,
  handle: MultipartHandle,
  data: Buffer,
  index: number,
): Promise<CompletedPart> {
  const bytes = data.subarray(index * handle.partSize, (index + 1) * handle.partSize);
  const { etag } = await store.writePart(handle, index, chunked(bytes), bytes.length);
  return { index, etag };
}

async function readAll(
  store: BlobStore,
  key: string,
  range?: { start: number; end: number },
): Promise<Buffer> {
  const stream = await store.read(key, range);
  return Buffer.concat(await stream.toArray());
}

async function inParallel<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}
