import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './support/harness.ts';
import { chunkOf, createSession, makeVideoOfSize, putChunk, sha256Hex } from './support/uploads.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

for (const storage of ['local', 's3'] as const) {
  describe(`resumable upload end to end (${storage} storage)`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp({ storage });
    });
    after(() => t.close());

    it('assembles out-of-order, parallel and duplicate chunks into a byte-identical file', async () => {
      const chunkSize = storage === 's3' ? 5 * MiB : 256 * KiB;
      const file = await makeVideoOfSize(t.dir, chunkSize * 3 + 12_345);
      const session = await createSession(t, file, { chunkSize, sha256: sha256Hex(file) });
      assert.equal(session.totalChunks, 4);
      assert.equal(session.chunkSize, chunkSize);

      // Last chunk first, then the rest in parallel, with chunk 1 sent twice at once.
      const first = await putChunk(t, session.id, 3, chunkOf(file, chunkSize, 3));
      assert.equal(first.statusCode, 200, first.body);
      const results = await Promise.all(
        [1, 0, 1, 2].map((index) => putChunk(t, session.id, index, chunkOf(file, chunkSize, index))),
      );
      assert.deepEqual(
        results.map((r) => r.statusCode),
        [200, 200, 200, 200],
      );
      const again = await putChunk(t, session.id, 2, chunkOf(file, chunkSize, 2));
      assert.equal(again.json().duplicate, true);

      const status = (await t.request({ method: 'GET', url: `/api/v1/uploads/${session.id}` })).json();
      assert.equal(status.receivedChunks, 4);
      assert.deepEqual(status.missingChunks, []);
      assert.equal(status.bytesReceived, file.length);

      const complete = await t.request({
        method: 'POST',
        url: `/api/v1/uploads/${session.id}/complete`,
        json: { title: 'Test clip', tags: ['a', 'b'], visibility: 'unlisted' },
      });
      assert.equal(complete.statusCode, 202, complete.body);
      const { videoId } = complete.json();

      const video = (await t.request({ method: 'GET', url: `/api/v1/videos/${videoId}`, auth: null })).json();
      assert.equal(video.status, 'processing');
      assert.equal(video.title, 'Test clip');
      assert.deepEqual(video.tags, ['a', 'b']);
      assert.equal(video.visibility, 'unlisted');
      assert.equal(video.width, 320);
      assert.equal(video.height, 180);
      assert.ok(Math.abs(video.durationSeconds - 2) < 0.1, `duration ${video.durationSeconds}`);
      assert.equal(video.videoCodec, 'h264');
      assert.equal(video.audioCodec, 'aac');
      assert.equal(video.sourceSize, file.length);

      // The stored source is byte-identical.
      const row = await t.app.database.db
        .selectFrom('videos')
        .selectAll()
        .where('id', '=', videoId)
        .executeTakeFirstOrThrow();
      const hash = createHash('sha256');
      await pipeline(await t.app.store.read(row.source_key), hash);
      assert.equal(hash.digest('hex'), sha256Hex(file));

      // The processing job was enqueued with the video.
      const jobs = await t.app.database.executeSql(
        `select data from pgboss.job where name = 'video.process'`,
      );
      assert.ok(jobs.rows.some((job) => (job as { data: { videoId: string } }).data.videoId === videoId));

      // Completing twice is idempotent.
      const twice = await t.request({
        method: 'POST',
        url: `/api/v1/uploads/${session.id}/complete`,
        json: {},
      });
      assert.equal(twice.statusCode, 202);
      assert.equal(twice.json().videoId, videoId);
    });

    it('abort frees the stored bytes', async () => {
      const chunkSize = storage === 's3' ? 5 * MiB : 256 * KiB;
      const file = await makeVideoOfSize(t.dir, chunkSize + 100, 'abort.mp4');
      const session = await createSession(t, file, { chunkSize });
      assert.equal((await putChunk(t, session.id, 0, chunkOf(file, chunkSize, 0))).statusCode, 200);
      const deleted = await t.request({ method: 'DELETE', url: `/api/v1/uploads/${session.id}` });
      assert.equal(deleted.statusCode, 204);
      const later = await putChunk(t, session.id, 1, chunkOf(file, chunkSize, 1));
      assert.equal(later.json().error.code, 'UPLOAD_NOT_ACTIVE');
      assert.deepEqual(await t.app.store.list(`sources/${session.id}/`), []);
    });
  });
}

describe('upload rejections store nothing', () => {
  let t: TestApp;
  const chunkSize = 256 * KiB;
  let file: Buffer;
  before(async () => {
    t = await startTestApp({ env: { UPLOAD_MAX_SIZE: '50MiB' } });
    file = await makeVideoOfSize(t.dir, chunkSize * 2 + 1000);
  });
  after(() => t.close());

  async function received(id: string): Promise<number> {
    return (await t.request({ method: 'GET', url: `/api/v1/uploads/${id}` })).json().receivedChunks;
  }

  const createCases: Array<[string, Record<string, unknown>, number, string]> = [
    ['too large', { size: 51 * MiB }, 413, 'UPLOAD_TOO_LARGE'],
    ['a disallowed extension', { filename: 'notes.txt' }, 415, 'UPLOAD_TYPE_NOT_ALLOWED'],
    ['a disallowed MIME type', { contentType: 'text/plain' }, 415, 'UPLOAD_TYPE_NOT_ALLOWED'],
    ['a chunk size below the minimum', { chunkSize: 1000 }, 422, 'UPLOAD_CHUNK_SIZE_INVALID'],
    ['a zero size', { size: 0 }, 400, 'VALIDATION_FAILED'],
    ['a malformed sha256', { sha256: 'abc' }, 400, 'VALIDATION_FAILED'],
  ];
  for (const [name, override, status, code] of createCases) {
    it(`create with ${name} → ${status} ${code}`, async () => {
      const response = await t.request({
        method: 'POST',
        url: '/api/v1/uploads',
        json: { filename: 'clip.mp4', size: 1000, contentType: 'video/mp4', ...override },
      });
      assert.equal(response.statusCode, status, response.body);
      assert.equal(response.json().error.code, code);
      assert.equal(typeof response.json().error.message, 'string');
    });
  }

  it('creates accept every allowed container extension', async () => {
    for (const filename of [
      'a.mov',
      'a.M4V',
      'a.mkv',
      'a.webm',
      'a.avi',
      'a.ts',
      'a.mts',
      'a.m2ts',
      'a.mpg',
      'a.mpeg',
      'a.3gp',
      'a.flv',
      'a.wmv',
    ]) {
      const response = await t.request({
        method: 'POST',
        url: '/api/v1/uploads',
        json: { filename, size: 1000, contentType: 'application/octet-stream' },
      });
      assert.equal(response.statusCode, 201, `${filename}: ${response.body}`);
    }
  });

  it('refuses a chunk with a missing, malformed or wrong digest and does not count it', async () => {
    const session = await createSession(t, file, { chunkSize });
    const bytes = chunkOf(file, chunkSize, 0);
    const missing = await putChunk(t, session.id, 0, bytes, { digest: null });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error.code, 'UPLOAD_CHUNK_DIGEST_MISSING');
    const malformed = await putChunk(t, session.id, 0, bytes, { digest: 'sha-256=nope' });
    assert.equal(malformed.json().error.code, 'UPLOAD_CHUNK_DIGEST_MISSING');
    const wrong = await putChunk(t, session.id, 0, bytes, {
      digest: `sha-256=:${createHash('sha256').update('other').digest('base64')}:`,
    });
    assert.equal(wrong.statusCode, 422);
    assert.equal(wrong.json().error.code, 'UPLOAD_CHUNK_DIGEST_MISMATCH');
    assert.equal(await received(session.id), 0);
    // The same chunk sent correctly afterwards counts.
    assert.equal((await putChunk(t, session.id, 0, bytes)).statusCode, 200);
    assert.equal(await received(session.id), 1);
  });

  it('refuses wrong sizes and out-of-range indices', async () => {
    const session = await createSession(t, file, { chunkSize });
    const short = await putChunk(t, session.id, 0, chunkOf(file, chunkSize, 0).subarray(1));
    assert.equal(short.statusCode, 422);
    assert.equal(short.json().error.code, 'UPLOAD_CHUNK_SIZE_INVALID');
    const long = await putChunk(t, session.id, 2, file.subarray(2 * chunkSize - 1));
    assert.equal(long.json().error.code, 'UPLOAD_CHUNK_SIZE_INVALID');
    const outOfRange = await putChunk(t, session.id, 3, Buffer.from('x'));
    assert.equal(outOfRange.statusCode, 422);
    assert.equal(outOfRange.json().error.code, 'UPLOAD_CHUNK_INDEX_OUT_OF_RANGE');
    const negative = await putChunk(t, session.id, -1, Buffer.from('x'));
    assert.equal(negative.statusCode, 400);
    assert.equal(await received(session.id), 0);
  });

  it('refuses a first chunk that is not a video container', async () => {
    const junk = randomBytes(chunkSize * 2);
    const session = await createSession(t, junk, { chunkSize });
    const response = await putChunk(t, session.id, 0, chunkOf(junk, chunkSize, 0));
    assert.equal(response.statusCode, 415);
    assert.equal(response.json().error.code, 'UPLOAD_TYPE_NOT_ALLOWED');
    assert.equal(await received(session.id), 0);
  });

  it('refuses a different payload for a chunk already received', async () => {
    const session = await createSession(t, file, { chunkSize });
    assert.equal((await putChunk(t, session.id, 1, chunkOf(file, chunkSize, 1))).statusCode, 200);
    const conflict = await putChunk(t, session.id, 1, randomBytes(chunkSize));
    assert.equal(conflict.statusCode, 409);
    assert.equal(conflict.json().error.code, 'UPLOAD_CHUNK_CONFLICT');
  });

  it('unknown sessions → 404, malformed ids → 400', async () => {
    const unknown = await putChunk(t, 'AAAAAAAAAAAA', 0, Buffer.from('x'));
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'UPLOAD_NOT_FOUND');
    const traversal = await t.request({ method: 'GET', url: '/api/v1/uploads/..%2F..%2Fetc' });
    assert.equal(traversal.statusCode, 400);
    assert.equal(traversal.json().error.code, 'VALIDATION_FAILED');
  });

  it('expired sessions → 410, and the sweeper frees their bytes', async () => {
    const session = await createSession(t, file, { chunkSize });
    assert.equal((await putChunk(t, session.id, 0, chunkOf(file, chunkSize, 0))).statusCode, 200);
    await t.app.database.db
      .updateTable('uploads')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', session.id)
      .execute();
    const late = await putChunk(t, session.id, 1, chunkOf(file, chunkSize, 1));
    assert.equal(late.statusCode, 410);
    assert.equal(late.json().error.code, 'UPLOAD_EXPIRED');
    assert.ok((await t.app.uploads.service.sweepExpired()) >= 1);
    const after = await t.request({ method: 'GET', url: `/api/v1/uploads/${session.id}` });
    assert.equal(after.json().state, 'expired');
    const complete = await t.request({
      method: 'POST',
      url: `/api/v1/uploads/${session.id}/complete`,
      json: {},
    });
    assert.equal(complete.statusCode, 410);
    assert.deepEqual(await t.app.store.list(`sources/${session.id}/`), []);
    assert.equal(await t.app.store.stat(`sources/${session.id}/original.mp4.partial`), undefined);
  });

  it('complete with missing chunks → 409 listing them; the session stays resumable', async () => {
    const session = await createSession(t, file, { chunkSize });
    await putChunk(t, session.id, 1, chunkOf(file, chunkSize, 1));
    const response = await t.request({
      method: 'POST',
      url: `/api/v1/uploads/${session.id}/complete`,
      json: {},
    });
    assert.equal(response.statusCode, 409);
    assert.equal(response.json().error.code, 'UPLOAD_INCOMPLETE');
    assert.deepEqual(response.json().error.details.missingChunks, [0, 2]);
    await putChunk(t, session.id, 0, chunkOf(file, chunkSize, 0));
    await putChunk(t, session.id, 2, chunkOf(file, chunkSize, 2));
    const retry = await t.request({
      method: 'POST',
      url: `/api/v1/uploads/${session.id}/complete`,
      json: {},
    });
    assert.equal(retry.statusCode, 202, retry.body);
  });

  /** Uploads `bytes` whole and completes; returns the completion response. */
  async function uploadAndComplete(bytes: Buffer, extra: Record<string, unknown> = {}) {
    const session = await createSession(t, bytes, { chunkSize, ...extra });
    for (let index = 0; index < session.totalChunks; index++) {
      const response = await putChunk(t, session.id, index, chunkOf(bytes, chunkSize, index));
      assert.equal(response.statusCode, 200, response.body);
    }
    const response = await t.request({
      method: 'POST',
      url: `/api/v1/uploads/${session.id}/complete`,
      json: {},
    });
    return { session, response };
  }

  async function assertRejectedAndRemoved(bytes: Buffer, code: string, extra: Record<string, unknown> = {}) {
    const videosBefore = await t.app.database.db.selectFrom('videos').select('id').execute();
    const { session, response } = await uploadAndComplete(bytes, extra);
    assert.equal(response.statusCode, 422, response.body);
    assert.equal(response.json().error.code, code);
    assert.ok(response.json().error.message.length > 10);
    assert.deepEqual(await t.app.store.list(`sources/${session.id}/`), []);
    const status = (await t.request({ method: 'GET', url: `/api/v1/uploads/${session.id}` })).json();
    assert.equal(status.state, 'rejected');
    const videosAfter = await t.app.database.db.selectFrom('videos').select('id').execute();
    assert.equal(videosAfter.length, videosBefore.length);
  }

  it('a container that is not decodable → 422 MEDIA_UNREADABLE, bytes removed', async () => {
    const fake = Buffer.concat([
      Buffer.from('\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2', 'latin1'),
      randomBytes(chunkSize),
    ]);
    await assertRejectedAndRemoved(fake, 'MEDIA_UNREADABLE');
  });

  it('a whole-file SHA-256 mismatch → 422 UPLOAD_FILE_DIGEST_MISMATCH, bytes removed', async () => {
    await assertRejectedAndRemoved(file, 'UPLOAD_FILE_DIGEST_MISMATCH', { sha256: 'a'.repeat(64) });
  });

  it('a video over the duration limit → 422 MEDIA_TOO_LONG, bytes removed', async () => {
    const strict = await startTestApp({ env: { MAX_VIDEO_DURATION_SECONDS: '1' } });
    try {
      const session = await createSession(strict, file, { chunkSize });
      for (let index = 0; index < session.totalChunks; index++) {
        await putChunk(strict, session.id, index, chunkOf(file, chunkSize, index));
      }
      const response = await strict.request({
        method: 'POST',
        url: `/api/v1/uploads/${session.id}/complete`,
        json: {},
      });
      assert.equal(response.statusCode, 422);
      assert.equal(response.json().error.code, 'MEDIA_TOO_LONG');
      assert.deepEqual(await strict.app.store.list('sources/'), []);
    } finally {
      await strict.close();
    }
  });
});
