import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Parser } from 'm3u8-parser';
import { planLadder } from '../src/media/ladder.ts';
import { parseMediaPlaylist } from '../src/media/playlists.ts';
import { parseProbe, probeMedia } from '../src/media/probe.ts';
import type { LocalBlobStore } from '../src/platform/storage/local-blob-store.ts';
import { processVideoJob } from '../src/processing/jobs.ts';
import { startTestApp, type TestApp } from './support/harness.ts';
import { makeClip, mediaTools } from './support/media.ts';
import { uploadVideo, waitForVideo } from './support/processing.ts';
import { insertVideo } from './support/videos.ts';

function parseMaster(text: string) {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

async function ffprobeJson(args: string[]): Promise<any> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) =>
    execFile(mediaTools().ffprobe, ['-v', 'error', '-of', 'json', ...args], (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout)),
    ),
  );
}

describe('transcoding to an aligned HLS ladder', () => {
  let t: TestApp;
  const playlistPuts: Array<{ key: string; text: string }> = [];
  let videoId: string;
  let video: any;
  let encodeDir: string;

  before(async () => {
    t = await startTestApp({ env: { HLS_SEGMENT_SECONDS: '2' } });
    // Record what the pipeline publishes (the real local store underneath).
    const store = t.app.store;
    const put = store.put.bind(store);
    store.put = async (key, body, contentType) => {
      if (key.endsWith('/index.m3u8') && typeof body === 'string') playlistPuts.push({ key, text: body });
      return put(key, body, contentType);
    };
    await t.app.startWorkers();
    const clip = await makeClip(t.dir, { seconds: 12, width: 640, height: 360, fps: 30 });
    videoId = await uploadVideo(t, clip, { title: 'Ladder' });
    video = await waitForVideo(t, videoId, (v) => v.status !== 'processing');
    const row = await t.app.catalog.videos.find(videoId);
    encodeDir = (t.app.store as LocalBlobStore).pathOf(`videos/${videoId}/${row!.encode_id}`);
  });
  after(() => t.close());

  it('ends ready with renditions, progress 100 and playback URLs', () => {
    assert.equal(video.status, 'ready', JSON.stringify(video.error));
    assert.equal(video.playable, true);
    assert.deepEqual(video.progress, { percent: 100, etaSeconds: 0 });
    assert.deepEqual(
      video.renditions.map((r: any) => [r.name, r.width, r.height]),
      [
        ['240p', 426, 240],
        ['360p', 640, 360],
      ],
    );
    for (const r of video.renditions) {
      assert.match(r.codecs, /^avc1\.6400[0-9a-f]{2}$/);
      assert.ok(r.bandwidth >= r.averageBandwidth && r.averageBandwidth > 0);
    }
    for (const url of [
      video.playback.hls,
      video.playback.mp4,
      video.playback.poster,
      video.playback.storyboard,
    ]) {
      assert.match(url, /^http:\/\/.+\/media\/[\w-]{12}\/[\w-]{12}\/.+/);
    }
  });

  it('writes a master playlist with measured BANDWIDTH, CODECS, RESOLUTION, FRAME-RATE and an audio group', async () => {
    const text = await fs.readFile(path.join(encodeDir, 'master.m3u8'), 'utf8');
    assert.match(text, /#EXT-X-INDEPENDENT-SEGMENTS/);
    const manifest = parseMaster(text);
    assert.equal(manifest.playlists.length, 2);
    for (const playlist of manifest.playlists) {
      const attributes = playlist.attributes;
      assert.ok(attributes.BANDWIDTH > 0);
      assert.ok(attributes['AVERAGE-BANDWIDTH'] > 0);
      assert.match(attributes.CODECS, /^avc1\.6400[0-9a-f]{2},mp4a\.40\.2$/);
      assert.ok([240, 360].includes(attributes.RESOLUTION.height));
      assert.equal(Math.round(attributes['FRAME-RATE']), 30);
      assert.equal(attributes.AUDIO, 'audio');
    }
    assert.ok(manifest.mediaGroups.AUDIO.audio);
    // BANDWIDTH is the measured peak (video + audio), so it is not the configured cap.
    const rendition = video.renditions.find((r: any) => r.name === '360p');
    assert.notEqual(rendition.bandwidth, 800_000);
  });

  it('every rung has the same segment boundaries, VOD with ENDLIST, each segment starting on a keyframe', async () => {
    const lists = await Promise.all(
      ['240p', '360p', 'audio'].map(async (name) =>
        parseMediaPlaylist(await fs.readFile(path.join(encodeDir, name, 'index.m3u8'), 'utf8')),
      ),
    );
    for (const list of lists) {
      assert.equal(list.type, 'VOD');
      assert.equal(list.ended, true);
    }
    const [low, high] = lists;
    assert.equal(low!.segments.length, 6);
    assert.deepEqual(
      low!.segments.map((s) => s.duration.toFixed(2)),
      high!.segments.map((s) => s.duration.toFixed(2)),
    );
    for (const rung of ['240p', '360p']) {
      const list = lists[rung === '240p' ? 0 : 1]!;
      for (const segment of list.segments) {
        const joined = path.join(t.dir, `${rung}-${segment.uri}.mp4`);
        await fs.writeFile(
          joined,
          Buffer.concat([
            await fs.readFile(path.join(encodeDir, rung, list.mapUri!)),
            await fs.readFile(path.join(encodeDir, rung, segment.uri)),
          ]),
        );
        const frames = await ffprobeJson([
          '-select_streams',
          'v:0',
          '-show_frames',
          '-read_intervals',
          '%+#1',
          '-show_entries',
          'frame=key_frame,pict_type',
          joined,
        ]);
        assert.equal(frames.frames[0].key_frame, 1, `${rung}/${segment.uri} starts with a keyframe`);
      }
    }
  });

  it('each rung decodes at its planned size and the source duration (±0.1 s)', async () => {
    const row = await t.app.catalog.videos.find(videoId);
    const planned = planLadder(parseProbe(row!.probe));
    for (const rung of planned) {
      const probe = await probeMedia(mediaTools().ffprobe, path.join(encodeDir, rung.name, 'index.m3u8'));
      assert.equal(probe.video?.width, rung.width);
      assert.equal(probe.video?.height, rung.height);
      assert.ok(Math.abs(probe.durationSeconds - 12) <= 0.1, `${rung.name} lasts ${probe.durationSeconds}`);
    }
    const mp4 = await probeMedia(mediaTools().ffprobe, path.join(encodeDir, 'download.mp4'));
    assert.ok(Math.abs(mp4.durationSeconds - 12) <= 0.1);
    assert.equal(mp4.audio?.codec, 'aac');
  });

  it('published each media playlist as EVENT while encoding, then as VOD', () => {
    for (const rung of ['240p', '360p']) {
      const puts = playlistPuts.filter((p) => p.key.endsWith(`/${rung}/index.m3u8`));
      assert.ok(puts.length >= 2, `${rung}: ${puts.length} playlist versions`);
      const last = puts.at(-1)!.text;
      assert.match(last, /#EXT-X-PLAYLIST-TYPE:VOD/);
      assert.match(last, /#EXT-X-ENDLIST/);
      const first = puts[0]!.text;
      assert.match(first, /#EXT-X-PLAYLIST-TYPE:EVENT/);
      assert.doesNotMatch(first, /#EXT-X-ENDLIST/);
    }
  });

  it('writes a non-black poster and a storyboard sprite with WebVTT tiles', async () => {
    const row = await t.app.catalog.videos.find(videoId);
    const outputs = row!.outputs!;
    assert.deepEqual(
      outputs.posters.map((p) => [p.width, p.height]),
      [[640, 360]],
    );
    const vtt = await fs.readFile(path.join(encodeDir, 'storyboard.vtt'), 'utf8');
    assert.match(vtt, /^WEBVTT/);
    assert.equal((vtt.match(/storyboard\.jpg#xywh=\d+,\d+,\d+,\d+/g) ?? []).length, 12);
    await fs.access(path.join(encodeDir, 'storyboard.jpg'));
  });

  it('a source without audio gets no audio track', async () => {
    const clip = await makeClip(t.dir, { seconds: 3, width: 640, height: 360, audio: false });
    const id = await uploadVideo(t, clip);
    const silent = await waitForVideo(t, id, (v) => v.status !== 'processing');
    assert.equal(silent.status, 'ready', JSON.stringify(silent.error));
    const row = await t.app.catalog.videos.find(id);
    const dir = (t.app.store as LocalBlobStore).pathOf(`videos/${id}/${row!.encode_id}`);
    const master = parseMaster(await fs.readFile(path.join(dir, 'master.m3u8'), 'utf8'));
    for (const playlist of master.playlists) assert.match(playlist.attributes.CODECS, /^avc1\.[0-9a-f]{6}$/);
    await assert.rejects(fs.access(path.join(dir, 'audio')));
    const mp4 = await probeMedia(mediaTools().ffprobe, path.join(dir, 'download.mp4'));
    assert.equal(mp4.audio, null);
  });

  it('honours rotation: a 640×360 source rotated 90° becomes a portrait ladder', async () => {
    const clip = await makeClip(t.dir, {
      seconds: 2,
      width: 640,
      height: 360,
      rotate: 90,
      name: 'rotated.mp4',
    });
    const id = await uploadVideo(t, clip);
    const rotated = await waitForVideo(t, id, (v) => v.status !== 'processing');
    assert.equal(rotated.status, 'ready', JSON.stringify(rotated.error));
    assert.deepEqual([rotated.width, rotated.height], [360, 640]);
    assert.deepEqual(
      rotated.renditions.map((r: any) => [r.name, r.width, r.height]),
      [
        ['240p', 240, 426],
        ['360p', 360, 640],
      ],
    );
    const row = await t.app.catalog.videos.find(id);
    const dir = (t.app.store as LocalBlobStore).pathOf(`videos/${id}/${row!.encode_id}`);
    const probe = await probeMedia(mediaTools().ffprobe, path.join(dir, '360p', 'index.m3u8'));
    assert.deepEqual([probe.video?.displayWidth, probe.video?.displayHeight], [360, 640]);
  });

  it('a source that probes but cannot be decoded ends failed with a reason and the ffmpeg log', async () => {
    const clip = await makeClip(t.dir, { seconds: 2, name: 'broken.mp4' });
    const probe = await probeMedia(mediaTools().ffprobe, clip);
    await t.app.store.put('sources/broken/original.mp4', Buffer.alloc(300_000, 7));
    const id = 'brokenvideo1';
    await insertVideo(t, id, {
      duration_seconds: probe.durationSeconds,
      audio_codec: 'aac',
      probe: probe.raw,
      source_key: 'sources/broken/original.mp4',
      source_size: 300_000,
    });
    await t.app.queue.send(processVideoJob, { videoId: id, durationSeconds: probe.durationSeconds });
    const failed = await waitForVideo(t, id, (v) => v.status !== 'processing');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.code, 'MEDIA_UNSUPPORTED');
    assert.ok(failed.error.message.length > 10);
    const row = await t.app.catalog.videos.find(id);
    assert.match(row!.processing_log ?? '', /Invalid data|moov atom not found/);
    assert.deepEqual(await t.app.store.list(`videos/${id}/`), []);
  });

  it('reprocess makes a new encode, keeps serving the old one until ready, then deletes it', async () => {
    const before = await t.app.catalog.videos.find(videoId);
    const response = await t.request({ method: 'POST', url: `/api/v1/videos/${videoId}/reprocess` });
    assert.equal(response.statusCode, 202);
    const busy = await t.request({ method: 'POST', url: `/api/v1/videos/${videoId}/reprocess` });
    assert.equal(busy.statusCode, 409);
    // While processing, the old encode is still served.
    const during = await t.request({ method: 'GET', url: `/api/v1/videos/${videoId}`, auth: null });
    assert.equal(during.json().playable, true);
    assert.ok(during.json().playback.hls.includes(before!.encode_id!));
    const done = await waitForVideo(t, videoId, (v) => v.status !== 'processing');
    assert.equal(done.status, 'ready');
    const afterRow = await t.app.catalog.videos.find(videoId);
    assert.notEqual(afterRow!.encode_id, before!.encode_id);
    const keys = await t.app.store.list(`videos/${videoId}/`);
    assert.ok(keys.length > 0);
    assert.ok(keys.every((key) => key.startsWith(`videos/${videoId}/${afterRow!.encode_id}/`)));
  });

  it('delete removes the source, every output and thumbnail; the video answers 410', async () => {
    const row = await t.app.catalog.videos.find(videoId);
    const response = await t.request({ method: 'DELETE', url: `/api/v1/videos/${videoId}` });
    assert.equal(response.statusCode, 204);
    assert.deepEqual(await t.app.store.list(`videos/${videoId}/`), []);
    assert.equal(await t.app.store.stat(row!.source_key), undefined);
    const gone = await t.request({ method: 'GET', url: `/api/v1/videos/${videoId}`, auth: null });
    assert.equal(gone.statusCode, 410);
    assert.equal(gone.json().error.code, 'VIDEO_DELETED');
  });

  it('streams status and progress as Server-Sent Events until ready', async () => {
    const clip = await makeClip(t.dir, { seconds: 4, width: 640, height: 360, name: 'sse.mp4' });
    await t.app.http.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.http.server.address() as { port: number };
    const id = await uploadVideo(t, clip);
    const response = await fetch(`http://127.0.0.1:${address.port}/api/v1/videos/${id}/events`);
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const text = await response.text(); // the stream ends after `ready`
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    assert.equal(events.at(-1), 'ready');
    assert.ok(events.includes('playable'));
    assert.ok(events.indexOf('playable') < events.indexOf('ready'));
    const data = [...text.matchAll(/^data: (.+)$/gm)].map((m) => JSON.parse(m[1]!));
    assert.equal(data.at(-1).status, 'ready');
  });
});

describe('transcoding with S3 storage (s3rver)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ storage: 's3', env: { HLS_SEGMENT_SECONDS: '2' } });
    await t.app.startWorkers();
  });
  after(() => t.close());

  it('reads the source through a presigned URL and publishes the ladder to the bucket', async () => {
    const clip = await makeClip(t.dir, { seconds: 4, width: 640, height: 360 });
    const id = await uploadVideo(t, clip);
    const video = await waitForVideo(t, id, (v) => v.status !== 'processing');
    assert.equal(video.status, 'ready', JSON.stringify(video.error));
    const row = await t.app.catalog.videos.find(id);
    const prefix = `videos/${id}/${row!.encode_id}/`;
    const keys = await t.app.store.list(prefix);
    for (const file of [
      'master.m3u8',
      '240p/index.m3u8',
      '360p/index.m3u8',
      'audio/index.m3u8',
      'download.mp4',
    ]) {
      assert.ok(keys.includes(prefix + file), `${file} in the bucket`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await t.app.store.read(`${prefix}360p/index.m3u8`))
      chunks.push(chunk as Buffer);
    const playlist = parseMediaPlaylist(Buffer.concat(chunks).toString('utf8'));
    assert.equal(playlist.type, 'VOD');
    assert.equal(playlist.segments.length, 2);
    for (const segment of playlist.segments) assert.ok(keys.includes(`${prefix}360p/${segment.uri}`));
  });
});
