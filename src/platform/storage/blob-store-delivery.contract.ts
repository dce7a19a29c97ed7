import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { before, describe, it } from 'node:test';
import type { ContractSubject } from './blob-store.contract.ts';
import { BlobNotFoundError, type BlobStore, type ByteRange } from './blob-store.ts';

const MiB = 1024 * 1024;

/**
 * What delivery needs of every BlobStore: openRange() bodies and, where offered, presign(). Part of
 * blobStoreContract (registered inside its suite, against the same store).
 */
export function deliveryContract(subject: () => ContractSubject): void {
  describe('delivery', () => {
    // Larger than the local store's 1 MiB read buffer: ranges cross its chunk boundaries.
    const data = randomBytes(2 * MiB + 12_345);
    let store: BlobStore;
    before(async () => {
      store = subject().store;
      await store.put('open/object.bin', data);
    });

    it('openRange sends the whole object or one byte range of it, and ends the destination', async () => {
      assertSameBytes(await sendAll(store, 'open/object.bin'), data);
      for (const [start, end] of [
        [0, 99],
        [5000, 5000], // s3rver answers bytes=0-0 with the whole object: a single byte elsewhere
        [MiB - 1, MiB],
        [4321, 2 * MiB + 99],
        [data.length - 10, data.length - 1],
        [0, data.length - 1],
      ] as const) {
        const bytes = await sendAll(store, 'open/object.bin', { start, end });
        assertSameBytes(bytes, data.subarray(start, end + 1), `bytes ${start}-${end}`);
      }
      await store.put('open/empty.bin', '');
      assert.equal((await sendAll(store, 'open/empty.bin')).length, 0);
    });

    it('openRange serves many bodies at once without mixing their bytes', async () => {
      const ranges = Array.from({ length: 12 }, (_, i) => ({
        start: i * 1000,
        end: i * 1000 + MiB + i * 777,
      }));
      const bodies = await Promise.all(ranges.map((range) => sendAll(store, 'open/object.bin', range)));
      for (const [i, { start, end }] of ranges.entries()) {
        assertSameBytes(bodies[i], data.subarray(start, end + 1), `bytes ${start}-${end}`);
      }
    });

    it('openRange of a missing key throws BlobNotFoundError, also with a range or for a "directory"', async () => {
      await assert.rejects(store.openRange('open/absent.bin'), (error: unknown) => {
        assert.ok(error instanceof BlobNotFoundError);
        assert.equal(error.key, 'open/absent.bin');
        return true;
      });
      await assert.rejects(store.openRange('open/absent.bin', { start: 0, end: 9 }), BlobNotFoundError);
      await store.put('open/dir/child.txt', 'child');
      await assert.rejects(store.openRange('open/dir'), BlobNotFoundError);
    });

    it('a body stops quietly when the destination closes early; close() releases an unsent one', async () => {
      let taken = 0;
      const leaving = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          taken += chunk.length;
          callback();
          leaving.destroy(); // the client goes away after the first chunk
        },
      });
      await (await store.openRange('open/object.bin')).writeTo(leaving);
      assert.ok(taken > 0 && taken < data.length, `${taken} bytes taken`);
      const unsent = await store.openRange('open/object.bin', { start: 0, end: 99 });
      await unsent.close();
      await unsent.close();
      assertSameBytes(await sendAll(store, 'open/object.bin', { start: 5, end: 15 }), data.subarray(5, 16));
    });

    it('presign, where the store offers it, gives a URL that fetches the object and honours Range', async () => {
      assert.equal(typeof store.presign === 'function', subject().presigns, 'presign offered as declared');
      if (!store.presign) return;
      const location = await store.presign('open/object.bin', 600);
      assert.match(location, /^https?:\/\//);
      const whole = await fetch(location);
      assert.equal(whole.status, 200);
      assertSameBytes(Buffer.from(await whole.arrayBuffer()), data);
      const part = await fetch(location, { headers: { range: 'bytes=1000-1999' } });
      assert.equal(part.status, 206);
      assertSameBytes(Buffer.from(await part.arrayBuffer()), data.subarray(1000, 2000));
      // A signed URL may ask for longer than the store allows: it gets what the store allows.
      const longLived = await fetch(await store.presign('open/object.bin', 30 * 24 * 3600));
      assert.equal(longLived.status, 200);
      await longLived.arrayBuffer();
    });
  });
}

/** What openRange() writes to a destination that copies each chunk (the store may reuse its buffers). */
async function sendAll(store: BlobStore, key: string, range?: ByteRange): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  await (await store.openRange(key, range)).writeTo(destination);
  assert.ok(destination.writableEnded, 'the body ended the destination');
  return Buffer.concat(chunks);
}

/** Like assert.deepEqual, without a diff of megabytes (which takes minutes and gigabytes to build). */
function assertSameBytes(actual: Buffer | undefined, expected: Buffer, message?: string): void {
  assert.ok(actual, message);
  assert.equal(actual.length, expected.length, `${message ?? 'bytes'}: length`);
  assert.ok(actual.equals(expected), `${message ?? 'bytes'}: content`);
}
