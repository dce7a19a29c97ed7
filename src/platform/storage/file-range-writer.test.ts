import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { writeFileRange } from './file-range-writer.ts';

const MiB = 1024 * 1024;

describe('writeFileRange', () => {
  let dir: string;
  let file: string;
  let bytes: Buffer;
  let server: http.Server;
  let baseUrl: string;
  const finished: Array<Promise<void>> = [];

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-range-writer-'));
    bytes = randomBytes(3 * MiB + 12_345);
    file = path.join(dir, 'data.bin');
    await fs.writeFile(file, bytes);
    // GET /?start=&end=[&claim=] writes that range; `claim` announces a larger size than the file has.
    server = http.createServer(async (request, response) => {
      const query = new URL(request.url!, 'http://x').searchParams;
      const start = Number(query.get('start'));
      const end = Number(query.get('end'));
      response.writeHead(200, { 'content-length': end - start + 1 });
      const handle = await fs.open(file, 'r');
      // A failed read rejects after destroying the response: the client sees it cut off.
      const done = writeFileRange(handle, response, start, end)
        .catch(() => {})
        .finally(() => handle.close());
      finished.push(done);
      await done;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await fs.rm(dir, { recursive: true, force: true });
  });

  const get = async (start: number, end: number) => {
    const response = await fetch(`${baseUrl}/?start=${start}&end=${end}`);
    return Buffer.from(await response.arrayBuffer());
  };

  it('writes exactly the requested bytes, across chunk boundaries', async () => {
    const cases: Array<[number, number]> = [
      [0, bytes.length - 1],
      [0, 0],
      [MiB - 1, MiB], // straddles the first chunk boundary
      [100, 2 * MiB + 99],
      [bytes.length - 10, bytes.length - 1],
    ];
    for (const [start, end] of cases) {
      assert.deepEqual(await get(start, end), bytes.subarray(start, end + 1), `${start}-${end}`);
    }
  });

  it('serves many responses at once without mixing their bytes (buffers are reused safely)', async () => {
    const ranges = Array.from({ length: 24 }, (_, i) => [i * 1000, i * 1000 + MiB + i * 777] as const);
    const bodies = await Promise.all(ranges.map(([start, end]) => get(start, end)));
    for (const [i, [start, end]] of ranges.entries()) {
      assert.deepEqual(bodies[i], bytes.subarray(start, end + 1));
    }
  });

  it('stops quietly when the client goes away', async () => {
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/?start=0&end=${bytes.length - 1}`, {
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await Promise.allSettled(finished);
    // And the next response is still correct.
    assert.deepEqual(await get(5, MiB + 5), bytes.subarray(5, MiB + 6));
  });

  it('destroys the response when the file is shorter than the range', async () => {
    const failed = await fetch(`${baseUrl}/?start=${bytes.length - 10}&end=${bytes.length + 100}`)
      .then((response) => response.arrayBuffer())
      .then(
        () => false,
        () => true,
      );
    assert.equal(failed, true);
  });

  it('rejects with the read error after destroying the destination', async () => {
    const handle = await fs.open(file, 'r');
    const destination = new PassThrough().resume().on('error', () => {});
    try {
      await assert.rejects(
        writeFileRange(handle, destination, bytes.length - 10, bytes.length + 100),
        /file ended/,
      );
      assert.equal(destination.destroyed, true);
    } finally {
      await handle.close();
    }
  });
});
