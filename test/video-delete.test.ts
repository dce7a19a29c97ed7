import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './support/harness.ts';
import { seedReadyVideo } from './support/videos.ts';

describe('deleting a video when storage fails', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
    await t.app.startWorkers();
  });
  after(() => t.close());

  it('answers 204, the video is gone at once, and the cleanup job removes its files once storage is back', async () => {
    const id = 'cleanupvid01';
    const encodeId = await seedReadyVideo(t, id);
    await t.app.store.put(`sources/${id}/original.mp4`, Buffer.alloc(10, 1));
    const store = t.app.store;
    const deletePrefix = store.deletePrefix;
    let failures = 0;
    store.deletePrefix = async (prefix) => {
      if (failures++ === 0) throw new Error('storage is down');
      return deletePrefix.call(store, prefix);
    };
    try {
      const response = await t.request({ method: 'DELETE', url: `/api/v1/videos/${id}` });
      assert.equal(response.statusCode, 204, response.body);
      assert.equal((await t.request({ method: 'GET', url: `/api/v1/videos/${id}` })).statusCode, 410);
      assert.ok(await store.stat(`videos/${id}/${encodeId}/master.m3u8`), 'the first removal failed');
      const deadline = Date.now() + 30_000;
      while (
        (await store.list(`videos/${id}/`)).length > 0 ||
        (await store.stat(`sources/${id}/original.mp4`))
      ) {
        assert.ok(Date.now() < deadline, 'the cleanup job did not remove the files within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(failures >= 2, 'removed by the job, after the failed attempt');
    } finally {
      store.deletePrefix = deletePrefix;
    }
  });
});
