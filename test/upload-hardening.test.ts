import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './support/harness.ts';
import { chunkOf, createSession, digestHeader, makeVideoOfSize, putChunk } from './support/uploads.ts';

const KiB = 1024;
const chunkSize = 256 * KiB;
const newUpload = { filename: 'a.mp4', size: 1000, contentType: 'video/mp4' };

/** A raw HTTP request on a real socket: for bodies inject() cannot send (chunked, stalled, aborted). */
function rawPut(
  port: number,
  path: string,
  headers: Record<string, string>,
): { request: http.ClientRequest; response: Promise<{ status: number; body: string }> } {
  const request = http.request({ host: '127.0.0.1', port, path, method: 'PUT', headers });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (part) => {
        body += part;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
  return { request, response };
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('upload hardening', () => {
  let t: TestApp;
  let port: number;
  let file: Buffer;
  const logs: Array<{ level: number; msg: string }> = [];
  before(async () => {
    t = await startTestApp({
      env: { UPLOAD_IDLE_TIMEOUT_SECONDS: '1', UPLOAD_MAX_CONCURRENT_CHUNKS_PER_IP: '2' },
      logger: {
        level: 'info',
        stream: { write: (line: string) => logs.push(JSON.parse(line)) },
      },
    });
    await t.app.http.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.http.server.address() as AddressInfo).port;
    file = await makeVideoOfSize(t.dir, chunkSize * 2 + 1000);
  });
  after(() => t.close());

  /** A chunk PUT on a real socket; the test writes (or withholds) the body itself. */
  const startChunkPut = (
    id: string,
    index: number,
    bytes: Buffer,
    framing: 'length' | 'chunked' = 'length',
  ) =>
    rawPut(port, `/api/v1/uploads/${id}/chunks/${index}`, {
      authorization: `Bearer ${t.apiKey}`,
      'content-type': 'application/octet-stream',
      'content-digest': digestHeader(bytes),
      ...(framing === 'chunked'
        ? { 'transfer-encoding': 'chunked' }
        : { 'content-length': String(bytes.length) }),
    });
  /** Chunk rows of a session, claimed or received. */
  const chunkRows = async (id: string) =>
    (await t.app.database.db.selectFrom('upload_chunks').select('idx').where('upload_id', '=', id).execute())
      .length;
  const received = async (id: string) =>
    (await t.request({ method: 'GET', url: `/api/v1/uploads/${id}` })).json().receivedChunks;

  it('NUL and other control characters → 400 VALIDATION_FAILED naming the field; tab/newline allowed where text is free', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['POST', { ...newUpload, filename: 'a\u0000.mp4' }, '/filename'],
      ['POST', { ...newUpload, filename: 'a\u001b[31m.mp4' }, '/filename'],
    ];
    for (const [, body, field] of cases) {
      const response = await t.request({ method: 'POST', url: '/api/v1/uploads', json: body });
      assert.equal(response.statusCode, 400, response.body);
      assert.equal(response.json().error.code, 'VALIDATION_FAILED');
      assert.ok(
        response.json().error.details.issues.some((issue: { path: string }) => issue.path === field),
        response.body,
      );
    }
    const session = await createSession(t, file, { chunkSize });
    for (const [json, field] of [
      [{ title: 'bad\u0000title' }, '/title'],
      [{ tags: ['ok', 'b\u0000d'] }, '/tags/1'],
      [{ description: 'line\u0000' }, '/description'],
      [{ description: 'bell\u0007' }, '/description'],
    ] as const) {
      const response = await t.request({
        method: 'POST',
        url: `/api/v1/uploads/${session.id}/complete`,
        json,
      });
      assert.equal(response.statusCode, 400, `${JSON.stringify(json)}: ${response.body}`);
      assert.equal(response.json().error.details.issues[0].path, field);
    }
    // Validation comes first: the session is untouched and still completes with text that is fine.
    for (let index = 0; index < 3; index++)
      await putChunk(t, session.id, index, chunkOf(file, chunkSize, index));
    const complete = await t.request({
      method: 'POST',
      url: `/api/v1/uploads/${session.id}/complete`,
      json: { title: 'A title', description: 'two\nlines\r\nand\ttabs' },
    });
    assert.equal(complete.statusCode, 202, complete.body);
    assert.equal(
      (await t.app.catalog.videos.find(complete.json().videoId))?.description,
      'two\nlines\r\nand\ttabs',
    );
  });

  it('numbers are strict: a string size, or a chunk index spelled 01, 0x1 or 1e0, is refused', async () => {
    const size = await t.request({
      method: 'POST',
      url: '/api/v1/uploads',
      json: { ...newUpload, size: '1000' },
    });
    assert.equal(size.statusCode, 400);
    assert.equal(size.json().error.code, 'VALIDATION_FAILED');
    const session = await createSession(t, file, { chunkSize });
    for (const index of ['01', '0x1', '1e0', '+1', '1.0']) {
      const response = await t.request({
        method: 'PUT',
        url: `/api/v1/uploads/${session.id}/chunks/${index}`,
        body: chunkOf(file, chunkSize, 1),
        headers: {
          'content-type': 'application/octet-stream',
          'content-digest': digestHeader(chunkOf(file, chunkSize, 1)),
        },
      });
      assert.equal(response.statusCode, 400, `${index}: ${response.body}`);
      assert.equal(response.json().error.code, 'VALIDATION_FAILED');
    }
    assert.equal(await received(session.id), 0);
  });

  it('a chunked body shorter than the chunk → 422 UPLOAD_CHUNK_SIZE_INVALID, not counted, nothing logged as an error', async () => {
    const session = await createSession(t, file, { chunkSize });
    const bytes = chunkOf(file, chunkSize, 1);
    const before = logs.length;
    const { request, response } = startChunkPut(session.id, 1, bytes, 'chunked');
    request.end(bytes.subarray(0, 1000));
    const answer = await response;
    assert.equal(answer.status, 422, answer.body);
    assert.equal(JSON.parse(answer.body).error.code, 'UPLOAD_CHUNK_SIZE_INVALID');
    assert.equal(await received(session.id), 0);
    assert.deepEqual(
      logs.slice(before).filter((line) => line.level >= 50),
      [],
    );
    assert.equal((await putChunk(t, session.id, 1, bytes)).statusCode, 200, 'the chunk can be sent again');
  });

  it('a client that aborts mid-chunk: not counted, logged at info (not error), and the chunk can be resent', async () => {
    const session = await createSession(t, file, { chunkSize });
    const bytes = chunkOf(file, chunkSize, 1);
    const before = logs.length;
    const { request, response } = startChunkPut(session.id, 1, bytes);
    response.catch(() => {});
    request.write(bytes.subarray(0, 50_000));
    await until(async () => (await chunkRows(session.id)) === 1, 'the claim');
    request.destroy();
    await until(async () => (await chunkRows(session.id)) === 0, 'the claim to be released');
    assert.equal(await received(session.id), 0);
    const after = logs.slice(before);
    assert.deepEqual(
      after.filter((line) => line.level >= 50),
      [],
      'no error-level log for a client abort',
    );
    assert.ok(
      after.some((line) => line.level === 30 && /stopped sending chunk 1/.test(line.msg)),
      JSON.stringify(after),
    );
    assert.equal((await putChunk(t, session.id, 1, bytes)).statusCode, 200);
  });

  it('a chunk that makes no progress for UPLOAD_IDLE_TIMEOUT_SECONDS is dropped, uncounted', async () => {
    const session = await createSession(t, file, { chunkSize });
    const bytes = chunkOf(file, chunkSize, 1);
    const { request, response } = startChunkPut(session.id, 1, bytes);
    const started = Date.now();
    request.write(bytes.subarray(0, 10_000)); // then nothing
    const outcome = await response.then(
      (answer) => `answered ${answer.status}`,
      (error: NodeJS.ErrnoException) => `dropped ${error.code}`,
    );
    const seconds = (Date.now() - started) / 1000;
    assert.match(outcome, /^(dropped|answered 408)/);
    assert.ok(seconds >= 0.9 && seconds < 8, `dropped after ${seconds} s`);
    assert.equal(await received(session.id), 0);
    assert.equal((await putChunk(t, session.id, 1, bytes)).statusCode, 200);
  });

  it('per-IP cap on chunk PUTs in flight: the next one → 429 RATE_LIMITED; a slot frees when one ends', async () => {
    const session = await createSession(t, file, { chunkSize });
    const open = [0, 1].map((index) => {
      const bytes = chunkOf(file, chunkSize, index);
      const put = startChunkPut(session.id, index, bytes);
      put.request.write(bytes.subarray(0, 1000));
      return { ...put, bytes };
    });
    await until(async () => (await chunkRows(session.id)) === 2, 'two chunks in flight');
    const third = chunkOf(file, chunkSize, 2);
    const refused = startChunkPut(session.id, 2, third);
    refused.request.end(third);
    const answer = await refused.response;
    assert.equal(answer.status, 429, answer.body);
    assert.equal(JSON.parse(answer.body).error.code, 'RATE_LIMITED');
    for (const put of open) put.request.end(put.bytes.subarray(1000));
    assert.deepEqual(
      (await Promise.all(open.map((put) => put.response))).map((r) => r.status),
      [200, 200],
    );
    const retried = startChunkPut(session.id, 2, third);
    retried.request.end(third);
    assert.equal((await retried.response).status, 200);
  });
});

describe('upload quotas', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      env: {
        UPLOAD_MAX_ACTIVE_SESSIONS: '3',
        UPLOAD_MAX_RESERVED_BYTES: '10000',
        RATE_LIMIT_UPLOAD_TOKENS_PER_MINUTE: '4',
        UPLOAD_MAX_SIZE: '100000GiB',
      },
    });
  });
  after(() => t.close());

  const create = (size: number, auth?: string) =>
    t.request({ method: 'POST', url: '/api/v1/uploads', json: { ...newUpload, size }, auth });

  it('open sessions per key are capped (429), counting those opened with its upload tokens; aborting frees a slot', async () => {
    const { secret } = await t.app.auth.apiKeys.create('quota-a', 'member');
    const first = await create(1000, secret);
    assert.equal(first.statusCode, 201);
    for (let i = 0; i < 2; i++) {
      const token = (await t.request({ method: 'POST', url: '/api/v1/upload-tokens', auth: secret })).json()
        .token;
      assert.equal((await create(1000, token)).statusCode, 201);
    }
    const over = await create(1000, secret);
    assert.equal(over.statusCode, 429, over.body);
    assert.equal(over.json().error.code, 'UPLOAD_TOO_MANY_SESSIONS');
    const token = (await t.request({ method: 'POST', url: '/api/v1/upload-tokens', auth: secret })).json()
      .token;
    assert.equal((await create(1000, token)).json().error.code, 'UPLOAD_TOO_MANY_SESSIONS');
    // Another key has its own quota.
    const { secret: other } = await t.app.auth.apiKeys.create('quota-b', 'member');
    assert.equal((await create(1000, other)).statusCode, 201);
    await t.request({ method: 'DELETE', url: `/api/v1/uploads/${first.json().id}`, auth: secret });
    assert.equal((await create(1000, secret)).statusCode, 201);
  });

  it('reserved bytes per key are capped (413 UPLOAD_QUOTA_EXCEEDED)', async () => {
    const { secret } = await t.app.auth.apiKeys.create('bytes', 'member');
    assert.equal((await create(6000, secret)).statusCode, 201);
    const over = await create(6000, secret);
    assert.equal(over.statusCode, 413, over.body);
    assert.equal(over.json().error.code, 'UPLOAD_QUOTA_EXCEEDED');
    assert.equal((await create(4000, secret)).statusCode, 201);
  });

  it('minting upload tokens is rate-limited per key', async () => {
    const { secret } = await t.app.auth.apiKeys.create('minter', 'member');
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (await t.request({ method: 'POST', url: '/api/v1/upload-tokens', auth: secret })).statusCode,
      );
    }
    assert.deepEqual(statuses, [201, 201, 201, 201, 429, 429]);
    const { secret: other } = await t.app.auth.apiKeys.create('minter-2', 'member');
    assert.equal(
      (await t.request({ method: 'POST', url: '/api/v1/upload-tokens', auth: other })).statusCode,
      201,
    );
  });

  it('a session that could not fit on the local disk → 507 UPLOAD_STORAGE_FULL, nothing reserved', async () => {
    const root = t.app.config.storage.kind === 'local' ? t.app.config.storage.root : '';
    await fs.mkdir(root, { recursive: true });
    const stats = await fs.statfs(root);
    const free = stats.bavail * stats.bsize;
    const { secret } = await t.app.auth.apiKeys.create('disk', 'admin');
    const sessionsBefore = await t.app.database.db.selectFrom('uploads').select('id').execute();
    const tooBig = await t.request({
      method: 'POST',
      url: '/api/v1/uploads',
      json: { ...newUpload, size: free + 1024 ** 3 },
      auth: secret,
    });
    assert.equal(tooBig.statusCode, 507, tooBig.body);
    assert.equal(tooBig.json().error.code, 'UPLOAD_STORAGE_FULL');
    assert.equal(
      (await t.app.database.db.selectFrom('uploads').select('id').execute()).length,
      sessionsBefore.length,
    );
  });
});

describe('rate limits count an upload token against its key', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_UPLOADS_PER_MINUTE: '3' } });
  });
  after(() => t.close());

  it('the key and the tokens it issued share one bucket', async () => {
    const { secret } = await t.app.auth.apiKeys.create('shared', 'member');
    const statuses = [];
    statuses.push(
      (await t.request({ method: 'POST', url: '/api/v1/uploads', json: newUpload, auth: secret })).statusCode,
    );
    for (let i = 0; i < 3; i++) {
      const token = (await t.request({ method: 'POST', url: '/api/v1/upload-tokens', auth: secret })).json()
        .token;
      statuses.push(
        (await t.request({ method: 'POST', url: '/api/v1/uploads', json: newUpload, auth: token }))
          .statusCode,
      );
    }
    assert.deepEqual(statuses, [201, 201, 201, 429]);
  });
});
