import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  bytesReceived,
  chooseChunkSize,
  chunkRange,
  expectedChunkLength,
  formatContentDigest,
  missingChunks,
  parseContentDigest,
  totalChunksFor,
} from './chunks.ts';

const MiB = 1024 * 1024;

describe('chunk arithmetic', () => {
  const cases: Array<[size: number, chunk: number, total: number, lastLength: number]> = [
    [1, 8, 1, 1],
    [8, 8, 1, 8],
    [9, 8, 2, 1],
    [16, 8, 2, 8],
    [20 * MiB + 3, 8 * MiB, 3, 4 * MiB + 3],
  ];
  for (const [size, chunk, total, lastLength] of cases) {
    it(`size ${size} / chunk ${chunk} → ${total} chunks, last ${lastLength} bytes`, () => {
      assert.equal(totalChunksFor(size, chunk), total);
      assert.equal(expectedChunkLength(size, chunk, total - 1), lastLength);
      if (total > 1) assert.equal(expectedChunkLength(size, chunk, 0), chunk);
      assert.deepEqual(chunkRange(size, chunk, total - 1), { start: (total - 1) * chunk, end: size - 1 });
    });
  }

  it('rejects indices out of range', () => {
    assert.equal(expectedChunkLength(16, 8, 2), -1);
    assert.equal(expectedChunkLength(16, 8, -1), -1);
    assert.equal(expectedChunkLength(16, 8, 0.5), -1);
  });
});

describe('received set', () => {
  it('lists missing chunks in order, ignoring duplicates', () => {
    assert.deepEqual(missingChunks([3, 0, 0, 2], 5), [1, 4]);
    assert.deepEqual(missingChunks([], 3), [0, 1, 2]);
    assert.deepEqual(missingChunks([0, 1, 2], 3), []);
  });

  it('counts bytes received with a short last chunk, once per chunk', () => {
    assert.equal(bytesReceived([0, 2, 2], 20, 8), 8 + 4);
    assert.equal(bytesReceived([], 20, 8), 0);
    assert.equal(bytesReceived([0, 1, 2], 20, 8), 20);
  });
});

describe('chooseChunkSize', () => {
  const bounds = { defaultChunkSize: 8 * MiB, minChunkSize: 5 * MiB, maxChunkSize: 64 * MiB };
  it('takes a proposal within bounds', () => {
    assert.deepEqual(chooseChunkSize(100 * MiB, 6 * MiB, bounds), { chunkSize: 6 * MiB });
  });
  it('refuses a proposal out of bounds', () => {
    assert.ok('error' in chooseChunkSize(100 * MiB, 1 * MiB, bounds));
    assert.ok('error' in chooseChunkSize(100 * MiB, 65 * MiB, bounds));
  });
  it('grows the default to stay within 10,000 parts', () => {
    assert.deepEqual(chooseChunkSize(100_000 * MiB, undefined, bounds), { chunkSize: 10 * MiB });
    assert.deepEqual(chooseChunkSize(10 * MiB, undefined, bounds), { chunkSize: 8 * MiB });
  });
});

describe('Content-Digest (RFC 9530)', () => {
  const digest = createHash('sha256').update('hello').digest();
  it('round-trips sha-256', () => {
    assert.deepEqual(parseContentDigest(formatContentDigest(digest)), digest);
  });
  it('finds sha-256 among other algorithms, case-insensitively', () => {
    const header = `sha-512=:${Buffer.alloc(64).toString('base64')}:, SHA-256=:${digest.toString('base64')}:`;
    assert.deepEqual(parseContentDigest(header), digest);
  });
  it('rejects missing, malformed or wrong-length digests', () => {
    assert.equal(parseContentDigest(undefined), undefined);
    assert.equal(parseContentDigest(''), undefined);
    assert.equal(parseContentDigest(`sha-256=${digest.toString('base64')}`), undefined);
    assert.equal(parseContentDigest(`sha-256=:${Buffer.alloc(16).toString('base64')}:`), undefined);
    assert.equal(parseContentDigest(`md5=:${Buffer.alloc(16).toString('base64')}:`), undefined);
  });
});
