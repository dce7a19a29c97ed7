import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './support/harness.ts';
import { chunkOf, createSession, makeVideoOfSize, putChunk } from './support/uploads.ts';

const chunkSize = 256 * 1024;

/**
 * A process killed during `complete` leaves its session in `completing` with the client's input and
 * a heartbeat that stops. These tests put a session in exactly that state, then check what recovers it.
 */
describe('completions abandoned by a dead process', () => {
  let t: TestApp;
  let file: Buffer;
  before(async () => {
    t = await startTestApp();
    file = await makeVideoOfSize(t.dir, chunkSize * 2 + 1000);
  });
  after(() => t.close());

  async function fullyUploaded(bytes: Buffer) {
    const session = await createSession(t, bytes, { chunkSize });
    for (let index = 0; index < session.totalChunks; index++) {
      assert.equal((await putChunk(t, session.id, index, chunkOf(bytes, chunkSize, index))).statusCode, 200);
    }
    return session.id;
  }

  /** What a crash after `beginCompletion` leaves: completing, the input kept, heartbeat `ageMs` old. */
  async function crashedWhileCompleting(id: string, input: object, ageMs: number) {
    await t.app.database.db
      .updateTable('uploads')
      .set({
        state: 'completing',
        completion: JSON.stringify(input),
        updated_at: new Date(Date.now() - ageMs),
      })
      .where('id', '=', id)
      .execute();
  }

  const complete = (id: string, json: object = {}) =>
    t.request({ method: 'POST', url: `/api/v1/uploads/${id}/complete`, json });

  it('a retry while another process is completing → 409 UPLOAD_COMPLETION_IN_PROGRESS with Retry-After', async () => {
    const id = await fullyUploaded(file);
    await crashedWhileCompleting(id, { title: 'Elsewhere' }, 0); // heartbeat fresh: alive
    const answer = await complete(id);
    assert.equal(answer.statusCode, 409, answer.body);
    assert.equal(answer.json().error.code, 'UPLOAD_COMPLETION_IN_PROGRESS');
    assert.ok(Number(answer.headers['retry-after']) >= 1);
    assert.equal(
      await t.app.uploads.service.recoverStaleCompletions(),
      0,
      'a live completion is not taken over',
    );
  });

  it('the sweeper finishes a stale completion with the input its client sent; the retry then gets that video', async () => {
    const id = await fullyUploaded(file);
    await crashedWhileCompleting(id, { title: 'Sent before the crash', tags: ['kept'] }, 60_000);
    assert.equal(await t.app.uploads.service.recoverStaleCompletions(), 1);
    const status = (await t.request({ method: 'GET', url: `/api/v1/uploads/${id}` })).json();
    assert.equal(status.state, 'completed');
    const video = await t.app.catalog.videos.find(status.videoId);
    assert.equal(video?.title, 'Sent before the crash');
    assert.deepEqual(video?.tags, ['kept']);
    const retry = await complete(id, { title: 'A retry' });
    assert.equal(retry.statusCode, 202);
    assert.equal(retry.json().videoId, status.videoId, 'the same video, not a second one');
    const videos = await t.app.database.db
      .selectFrom('videos')
      .select('id')
      .where('upload_id', '=', id)
      .execute();
    assert.equal(videos.length, 1);
  });

  it('a client retry on a stale completion takes it over itself (no sweeper needed)', async () => {
    const id = await fullyUploaded(file);
    await crashedWhileCompleting(id, { title: 'First call' }, 60_000);
    const retry = await complete(id, { title: 'First call' });
    assert.equal(retry.statusCode, 202, retry.body);
    assert.equal((await t.app.catalog.videos.find(retry.json().videoId))?.title, 'First call');
  });

  it('a rejected completion answers every retry with its first error, not a state conflict', async () => {
    const fake = Buffer.concat([
      Buffer.from('\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2', 'latin1'),
      randomBytes(chunkSize),
    ]);
    const id = await fullyUploaded(fake);
    await crashedWhileCompleting(id, {}, 60_000);
    assert.equal(await t.app.uploads.service.recoverStaleCompletions(), 1);
    for (let attempt = 0; attempt < 2; attempt++) {
      const retry = await complete(id);
      assert.equal(retry.statusCode, 422, retry.body);
      assert.equal(retry.json().error.code, 'MEDIA_UNREADABLE');
    }
  });
});
