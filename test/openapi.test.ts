import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './support/harness.ts';
import { seedReadyVideo } from './support/videos.ts';

describe('OpenAPI document', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('names the shared schemas and gives GET /api/v1/videos/:id the Video shape', async () => {
    const doc = (await t.request({ method: 'GET', url: '/docs/json', auth: null })).json();
    assert.deepEqual(Object.keys(doc.components.schemas).sort(), ['Error', 'Video']);
    const video = doc.components.schemas.Video;
    for (const field of ['id', 'status', 'playable', 'progress', 'playback', 'renditions', 'createdAt']) {
      assert.ok(video.required.includes(field), field);
    }
    const ok = doc.paths['/api/v1/videos/{id}'].get.responses['200'];
    assert.equal(ok.content['application/json'].schema.$ref, '#/components/schemas/Video');
    const reprocess = doc.paths['/api/v1/videos/{id}/reprocess'].post.responses['202'];
    assert.equal(reprocess.content['application/json'].schema.$ref, '#/components/schemas/Video');
  });

  it('a video answered through the schema keeps every field of the public shape', async () => {
    await seedReadyVideo(t, 'openapivid01', { tags: ['a'] });
    const body = (await t.request({ method: 'GET', url: '/api/v1/videos/openapivid01', auth: null })).json();
    const doc = (await t.request({ method: 'GET', url: '/docs/json', auth: null })).json();
    assert.deepEqual(Object.keys(body).sort(), Object.keys(doc.components.schemas.Video.properties).sort());
    assert.equal(body.status, 'ready');
    assert.deepEqual(body.tags, ['a']);
    assert.match(body.playback.hls, /\/media\/openapivid01\/[^/]+\/master\.m3u8$/);
    assert.equal(body.error, null);
  });
});
