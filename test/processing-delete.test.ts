import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VideoRepository } from '../src/catalog/video-repository.ts';
import { probeMedia } from '../src/media/probe.ts';
import { EncodeRepository } from '../src/processing/encode-repository.ts';
import { processVideoJob } from '../src/processing/jobs.ts';
import { startTestApp, type TestApp } from './support/harness.ts';
import { makeClip, mediaTools } from './support/media.ts';
import { uploadVideo, waitForVideo } from './support/processing.ts';
import { insertVideo, videoFixture } from './support/videos.ts';

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A store call held until the test releases it; `reached` settles when the first matching call arrives. */
function hold() {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { reached, released, reach, release, armed: true };
}

describe('deleting a video while its job runs', () => {
  let t: TestApp;
  /** Outcome of every processing job run, by video id, in order. */
  const runs = new Map<string, Array<'returned' | 'threw'>>();
  /** Held `locate` calls (the encode reading its source), by video title. */
  const locateHolds = new Map<string, ReturnType<typeof hold>>();
  /** Held `put` calls (the publisher writing outputs), by video title. */
  const putHolds = new Map<string, ReturnType<typeof hold>>();

  const titleOf = async (id: string) =>
    (await t.app.database.db.selectFrom('videos').select('title').where('id', '=', id).executeTakeFirst())
      ?.title;

  before(async () => {
    t = await startTestApp({
      env: {
        HLS_SEGMENT_SECONDS: '2',
        // The poster then reads the source again after the HLS encode, as it does without a download.
        MP4_DOWNLOAD: 'false',
        JOB_RETRY_LIMIT: '1',
        JOB_RETRY_DELAY_SECONDS: '0',
      },
    });
    const store = t.app.store;
    const locate = store.locate.bind(store);
    store.locate = async (key, ttl) => {
      // Only the encode's read: the upload's probe runs before the video row exists.
      const row = await t.app.database.db
        .selectFrom('videos')
        .select(['title', 'pending_encode_id'])
        .where('source_key', '=', key)
        .executeTakeFirst();
      const held = row?.pending_encode_id ? locateHolds.get(row.title) : undefined;
      if (held?.armed) {
        held.armed = false;
        held.reach();
        await held.released;
      }
      return locate(key, ttl);
    };
    const put = store.put.bind(store);
    store.put = async (key, body, contentType) => {
      const id = /^videos\/([^/]+)\//.exec(key)?.[1];
      const held = id ? putHolds.get((await titleOf(id)) ?? '') : undefined;
      if (held?.armed) {
        held.armed = false;
        held.reach();
        await held.released;
      }
      return put(key, body, contentType);
    };
    const processor = t.app.processing.processor;
    const handle = processor.handle.bind(processor);
    processor.handle = async (data, context) => {
      const list = runs.get(data.videoId) ?? [];
      runs.set(data.videoId, list);
      try {
        await handle(data, context);
        list.push('returned');
      } catch (error) {
        list.push('threw');
        throw error;
      }
    };
    await t.app.startWorkers();
  });
  after(() => t.close());

  async function assertStaysDeleted(id: string) {
    const row = await t.app.catalog.videos.find(id);
    assert.equal(row?.status, 'deleted', `status ${row?.status}, error ${JSON.stringify(row?.error)}`);
    assert.equal(row?.playable, false);
    const get = await t.request({ method: 'GET', url: `/api/v1/videos/${id}`, auth: null });
    assert.equal(get.statusCode, 410, get.body);
    assert.equal(get.json().error.code, 'VIDEO_DELETED');
    const reprocess = await t.request({ method: 'POST', url: `/api/v1/videos/${id}/reprocess` });
    assert.equal(reprocess.statusCode, 410, reprocess.body);
    assert.equal(reprocess.json().error.code, 'VIDEO_DELETED');
    assert.deepEqual(await t.app.store.list(`videos/${id}/`), []);
    assert.equal(await t.app.store.stat(row!.source_key), undefined);
    await assert.rejects(fs.access(path.join(t.app.config.processing.workDir, id)), { code: 'ENOENT' });
  }

  it('deleted after the job claimed the encode, before ffmpeg opens the source: stays deleted', async () => {
    const title = 'deleted-before-ffmpeg';
    const held = hold();
    locateHolds.set(title, held);
    const clip = await makeClip(t.dir, { seconds: 2, name: 'before-ffmpeg.mp4' });
    const id = await uploadVideo(t, clip, { title });
    await held.reached; // the job has claimed the encode and is about to start ffmpeg
    assert.ok((await t.app.catalog.videos.find(id))?.pending_encode_id);
    const response = await t.request({ method: 'DELETE', url: `/api/v1/videos/${id}` });
    assert.equal(response.statusCode, 204, response.body);
    held.release();
    await until('the job to end', async () => (runs.get(id)?.length ? true : undefined));
    assert.deepEqual(runs.get(id), ['returned']);
    await assertStaysDeleted(id);
  });

  it('deleted while ffmpeg encodes and the publisher writes: stays deleted, no outputs left', async () => {
    const title = 'deleted-mid-encode';
    const held = hold();
    putHolds.set(title, held);
    const clip = await makeClip(t.dir, { seconds: 4, name: 'mid-encode.mp4' });
    const id = await uploadVideo(t, clip, { title });
    await held.reached; // ffmpeg has written a segment; the publisher is about to upload it
    const response = await t.request({ method: 'DELETE', url: `/api/v1/videos/${id}` });
    assert.equal(response.statusCode, 204, response.body);
    held.release(); // the publisher now writes into the deleted video's prefix
    await until('the job to end', async () => (runs.get(id)?.length ? true : undefined));
    assert.deepEqual(runs.get(id), ['returned']);
    await assertStaysDeleted(id);
  });

  it('a missing source of a video that is not deleted fails as PROCESSING_FAILED after retries', async () => {
    const clip = await makeClip(t.dir, { seconds: 2, name: 'missing-source.mp4' });
    const probe = await probeMedia(mediaTools().ffprobe, clip);
    const id = 'missingsrc01';
    await insertVideo(t, id, {
      duration_seconds: probe.durationSeconds,
      audio_codec: 'aac',
      probe: probe.raw,
      source_key: 'sources/missing/original.mp4', // never written
    });
    await t.app.queue.send(processVideoJob, { videoId: id, durationSeconds: probe.durationSeconds });
    const failed = await waitForVideo(t, id, (v) => v.status !== 'processing', 60_000);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.code, 'PROCESSING_FAILED', JSON.stringify(failed.error));
    assert.match(failed.error.message, /source missing/);
    assert.deepEqual(runs.get(id), ['threw', 'returned'], 'retried once (JOB_RETRY_LIMIT=1), then failed');
    assert.deepEqual(await t.app.store.list(`videos/${id}/`), []);
  });
});

describe('EncodeRepository never changes a deleted video', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('markFailed, finishEncode, markPlayable, updateProgress and claimEncode leave the row as it was', async () => {
    const videos = new VideoRepository(t.app.database.db);
    const encodes = new EncodeRepository(t.app.database.db);
    const id = 'deletedrow01';
    await videos.insert(t.app.database.db, videoFixture(id));
    assert.deepEqual(await encodes.claimEncode(id, 'encode000001'), { abandoned: null });
    assert.ok(await videos.markDeleted(id));
    const deleted = await videos.find(id);
    assert.equal(deleted?.status, 'deleted');

    const outputs = { master: 'master.m3u8', mp4: null, posters: [], storyboard: null };
    const renditions = [
      {
        name: '180p',
        width: 320,
        height: 180,
        frameRate: 25,
        bandwidth: 1,
        averageBandwidth: 1,
        codecs: 'avc1.64000d',
      },
    ];
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['updateProgress', () => encodes.updateProgress(id, 'encode000001', 50, 3)],
      ['markPlayable', () => encodes.markPlayable(id, 'encode000001', outputs, renditions)],
      ['finishEncode', () => encodes.finishEncode(id, 'encode000001', outputs, renditions)],
      [
        'markFailed',
        () => encodes.markFailed(id, 'encode000001', { code: 'MEDIA_UNSUPPORTED', message: 'x' }, 'log'),
      ],
      ['claimEncode', () => encodes.claimEncode(id, 'encode000002')],
    ];
    for (const [name, call] of calls) {
      await call();
      assert.deepEqual(await videos.find(id), deleted, `${name} changed a deleted row`);
    }
    assert.equal(await encodes.finishEncode(id, 'encode000001', outputs, renditions), undefined);
    assert.equal(await encodes.claimEncode(id, 'encode000003'), undefined);
  });
});
