import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseAnswer, ReelApiError } from './api.ts';
import { formatResumeState, parseResumeState, ResumeStateFile, resumeKey } from './resume-state.ts';
import {
  backoffDelayMs,
  classifyFailure,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  retryDelayMs,
  withRetry,
} from './retry.ts';
import { contentTypeFor } from './upload-client.ts';

describe('backoffDelayMs', () => {
  test('0.5 s × 2^n, capped at 30 s; jitter scales it into [½, 1)', () => {
    const low = [0, 1, 2, 3, 4, 5, 6, 7].map((retry) => backoffDelayMs(retry, 0));
    assert.deepEqual(low, [250, 500, 1000, 2000, 4000, 8000, 15000, 15000]);
    const high = [0, 1, 2, 3, 4, 5, 6, 7].map((retry) => backoffDelayMs(retry, 0.999999));
    assert.deepEqual(high, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    assert.equal(backoffDelayMs(2, 0.5), 1500);
  });
  test('the policy sets base and cap', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 10, maxDelayMs: 35 };
    assert.deepEqual(
      [0, 1, 2, 3].map((retry) => backoffDelayMs(retry, 0.5, policy)),
      [8, 15, 26, 26],
    );
  });
});

describe('retryDelayMs', () => {
  test('without Retry-After: the backoff', () => {
    assert.equal(retryDelayMs(3, undefined, 0), 2000);
  });
  test('with Retry-After: that wait plus up to 10 % (max 1 s) of jitter, whatever the retry number', () => {
    assert.equal(retryDelayMs(0, 1000, 0), 1000);
    assert.equal(retryDelayMs(5, 1000, 0.5), 1050);
    assert.equal(retryDelayMs(0, 60_000, 0.5), 60_500);
    assert.equal(retryDelayMs(0, 0, 0.9), 0);
  });
  test('a huge Retry-After is capped at 5 minutes', () => {
    assert.equal(retryDelayMs(0, 3_600_000, 0), 300_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  for (const [value, expected] of [
    ['1', 1000],
    [' 120 ', 120_000],
    ['0', 0],
    ['Wed, 01 Jan 2025 00:00:30 GMT', 30_000],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
    ['1.5', undefined],
    ['-3', undefined],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ] as const) {
    test(`${JSON.stringify(value)} → ${expected}`, () => assert.equal(parseRetryAfter(value, now), expected));
  }
});

describe('classifyFailure', () => {
  const api = (status: number, code = `HTTP_${status}`, retryAfterMs?: number) =>
    new ReelApiError(status, code, 'm', {}, retryAfterMs);
  test('5xx, 408 and 429 are retried; Retry-After only counts on 429 and 503', () => {
    assert.deepEqual(classifyFailure(api(500)), { retry: true });
    assert.deepEqual(classifyFailure(api(502, 'HTTP_502', 4000)), { retry: true });
    assert.deepEqual(classifyFailure(api(503, 'SERVICE_UNAVAILABLE', 4000)), {
      retry: true,
      retryAfterMs: 4000,
    });
    assert.deepEqual(classifyFailure(api(408)), { retry: true });
    assert.deepEqual(classifyFailure(api(429, 'RATE_LIMITED', 1000)), { retry: true, retryAfterMs: 1000 });
    assert.deepEqual(classifyFailure(api(429, 'RATE_LIMITED')), { retry: true });
  });
  test('other 4xx are final, except a chunk damaged on the way', () => {
    assert.deepEqual(classifyFailure(api(400, 'VALIDATION_FAILED')), { retry: false });
    assert.deepEqual(classifyFailure(api(401, 'AUTH_INVALID')), { retry: false });
    assert.deepEqual(classifyFailure(api(410, 'UPLOAD_EXPIRED')), { retry: false });
    assert.deepEqual(classifyFailure(api(422, 'UPLOAD_CHUNK_DIGEST_MISMATCH')), { retry: true });
    assert.deepEqual(classifyFailure(api(409, 'UPLOAD_CHUNK_CONFLICT')), { retry: false });
  });
  test('a chunk or completion another request is busy with is asked again after Retry-After', () => {
    assert.deepEqual(classifyFailure(api(409, 'UPLOAD_CHUNK_IN_PROGRESS', 3000)), {
      retry: true,
      retryAfterMs: 3000,
    });
    assert.deepEqual(classifyFailure(api(409, 'UPLOAD_COMPLETION_IN_PROGRESS', 5000)), {
      retry: true,
      retryAfterMs: 5000,
    });
  });
  test('socket failures are retried; aborts and programming errors are not', () => {
    const network = (code: string) => Object.assign(new Error(code), { code });
    assert.deepEqual(classifyFailure(network('ECONNRESET')), { retry: true });
    assert.deepEqual(classifyFailure(network('ECONNREFUSED')), { retry: true });
    assert.deepEqual(classifyFailure(network('ETIMEDOUT')), { retry: true });
    assert.deepEqual(classifyFailure(network('ABORT_ERR')), { retry: false });
    assert.deepEqual(classifyFailure(new TypeError('x is undefined')), { retry: false });
  });
});

describe('withRetry', () => {
  const fast = { tries: 4, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5 };
  test('retries until success and reports each wait', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new ReelApiError(503, 'SERVICE_UNAVAILABLE', 'busy', {}, 3);
        return 'ok';
      },
      { policy: fast, random: () => 0, onRetry: ({ delayMs }) => waits.push(delayMs) },
    );
    assert.equal(result, 'ok');
    assert.equal(calls, 3);
    assert.deepEqual(waits, [3, 3]);
  });
  test('gives up after `tries` attempts with the last error', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw new ReelApiError(500, 'INTERNAL_ERROR', `failure ${calls}`, {});
        },
        { policy: fast, random: () => 0 },
      ),
      { message: 'failure 4' },
    );
    assert.equal(calls, 4);
  });
  test('a final error is thrown at once', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw new ReelApiError(415, 'UPLOAD_TYPE_NOT_ALLOWED', 'not a video', {});
        },
        { policy: fast },
      ),
      { code: 'UPLOAD_TYPE_NOT_ALLOWED' },
    );
    assert.equal(calls, 1);
  });
});

describe('parseAnswer', () => {
  test('2xx → the JSON body', () => {
    assert.deepEqual(parseAnswer({ status: 201, retryAfter: undefined, text: '{"id":"u1"}' }), { id: 'u1' });
  });
  test('a Reel error body → ReelApiError with its code, details and Retry-After', () => {
    const text = JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'slow down', details: { a: 1 } } });
    assert.throws(() => parseAnswer({ status: 429, retryAfter: '2', text }), {
      name: 'ReelApiError',
      status: 429,
      code: 'RATE_LIMITED',
      message: 'slow down',
      details: { a: 1 },
      retryAfterMs: 2000,
    });
  });
  test('a foreign error page → HTTP_<status> with a snippet', () => {
    assert.throws(
      () => parseAnswer({ status: 502, retryAfter: undefined, text: '<html>\n Bad   gateway</html>' }),
      {
        code: 'HTTP_502',
        message: 'The server answered HTTP 502: <html> Bad gateway</html>',
      },
    );
  });
});

describe('resume state', () => {
  test('keyed by absolute path, size and mtime', () => {
    assert.equal(resumeKey('/videos/a.mp4', 1000, 1700000000123.5), '["/videos/a.mp4",1000,1700000000123.5]');
    assert.equal(resumeKey('/videos/../videos/a.mp4', 1000, 1), resumeKey('/videos/a.mp4', 1000, 1));
    assert.notEqual(resumeKey('/videos/a.mp4', 1000, 1), resumeKey('/videos/a.mp4', 1001, 1));
    assert.notEqual(resumeKey('/videos/a.mp4', 1000, 1), resumeKey('/videos/a.mp4', 1000, 2));
    // A path that looks like the other fields cannot collide.
    assert.notEqual(resumeKey('/a:1', 2, 3), resumeKey('/a', 1, 2));
    assert.throws(() => resumeKey('videos/a.mp4', 1, 1), TypeError);
  });
  test('malformed files and entries are ignored', () => {
    assert.deepEqual(parseResumeState('not json'), {});
    assert.deepEqual(parseResumeState('{"uploads": 3}'), {});
    const entry = { uploadId: 'u1', baseUrl: 'http://h', createdAt: 't' };
    assert.deepEqual(parseResumeState(formatResumeState({ k: entry })), { k: entry });
    assert.deepEqual(
      parseResumeState('{"uploads":{"a":{"uploadId":1},"b":{"uploadId":"u","baseUrl":"x"}}}'),
      {
        b: { uploadId: 'u', baseUrl: 'x', createdAt: '' },
      },
    );
  });
  test('the file: set, get, delete; created 0600 in a new directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'reel-state-'));
    try {
      const file = new ResumeStateFile(path.join(dir, 'nested', 'uploads.json'));
      assert.equal(await file.get('k'), undefined);
      const entry = { uploadId: 'u1', baseUrl: 'http://h', createdAt: '2025-01-01T00:00:00.000Z' };
      await file.set('k', entry);
      await file.set('other', { ...entry, uploadId: 'u2' });
      assert.deepEqual(await file.get('k'), entry);
      assert.equal((await stat(file.path)).mode & 0o777, 0o600);
      await file.delete('k');
      assert.equal(await file.get('k'), undefined);
      assert.deepEqual(JSON.parse(await readFile(file.path, 'utf8')), {
        version: 1,
        uploads: { other: { ...entry, uploadId: 'u2' } },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test('contentTypeFor: the MIME type of the extension, octet-stream otherwise', () => {
  assert.equal(contentTypeFor('a.MP4'), 'video/mp4');
  assert.equal(contentTypeFor('b.mkv'), 'video/x-matroska');
  assert.equal(contentTypeFor('c.m2ts'), 'video/mp2t');
  assert.equal(contentTypeFor('d.bin'), 'application/octet-stream');
  assert.equal(contentTypeFor('noext'), 'application/octet-stream');
});
