import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseMediaPlaylist } from '../src/media/playlists.ts';
import { openPGlite } from '../src/platform/db/database.ts';
import { makeClip } from './support/media.ts';
import { runCli, type ServerProcess, startServerProcess } from './support/server-process.ts';
import { chunkOf, digestHeader } from './support/uploads.ts';

/**
 * Fault test: the server (and its in-process worker) is SIGKILLed mid-encode. After a restart the job
 * is picked up again once the dead worker's heartbeat lapses, restarts clean, and the video ends
 * `ready` once, with one consistent encode in storage and nothing of the dead attempt.
 */
describe('transcoding survives a SIGKILLed worker', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-fault-transcode-'));
  });
  after(async () => {
    await server?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('ends ready exactly once with a consistent output', async () => {
    const env = {
      DATA_DIR: path.join(dir, 'data'),
      HLS_SEGMENT_SECONDS: '2',
      JOB_HEARTBEAT_SECONDS: '10',
      JOB_MONITOR_INTERVAL_SECONDS: '2',
      JOB_RETRY_DELAY_SECONDS: '1',
    };
    const clip = await makeClip(dir, { seconds: 16, width: 1280, height: 720 });
    const file = await fs.readFile(clip);
    server = await startServerProcess(env);
    const apiKey = (await runCli(['keys', 'create', '--name', 'fault'], env)).stdout
      .trim()
      .split('\n')
      .at(-1)!;
    const api = (url: string, init: RequestInit = {}) =>
      fetch(`${server!.baseUrl}${url}`, {
        ...init,
        headers: { authorization: `Bearer ${apiKey}`, ...(init.headers ?? {}) },
      });

    const chunkSize = 1024 * 1024;
    const create = await api('/api/v1/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'long.mp4', size: file.length, contentType: 'video/mp4', chunkSize }),
    });
    const session = (await create.json()) as { id: string; totalChunks: number };
    for (let index = 0; index < session.totalChunks; index++) {
      const bytes = chunkOf(file, chunkSize, index);
      const put = await api(`/api/v1/uploads/${session.id}/chunks/${index}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-digest': digestHeader(bytes) },
        body: new Uint8Array(bytes),
      });
      assert.equal(put.status, 200);
    }
    const complete = await api(`/api/v1/uploads/${session.id}/complete`, { method: 'POST' });
    assert.equal(complete.status, 202);
    const { videoId } = (await complete.json()) as { videoId: string };

    const video = async () => (await (await api(`/api/v1/videos/${videoId}`)).json()) as any;
    // Kill while the encode is under way (some progress, not finished).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const current = await video();
      assert.equal(current.status, 'processing', 'the encode finished before the kill: make the clip longer');
      if (current.progress.percent > 5) break;
      assert.ok(Date.now() < deadline, 'no progress within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const killedAt = Date.now();
    await server.kill();

    server = await startServerProcess(env);
    const readyBy = Date.now() + 180_000;
    let final: any;
    for (;;) {
      final = await video();
      if (final.status !== 'processing') break;
      assert.ok(Date.now() < readyBy, `not ready after restart: ${JSON.stringify(final)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(final.status, 'ready', JSON.stringify(final.error));
    console.log(`# ready ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    assert.equal(final.renditions.length, 4);

    // One encode in storage: the served one, complete and self-consistent.
    const encodeId = final.playback.hls.split('/').at(-2);
    const videoDir = path.join(env.DATA_DIR, 'media', 'videos', videoId);
    assert.deepEqual(await fs.readdir(videoDir), [encodeId]);
    for (const rendition of [...final.renditions.map((r: any) => r.name), 'audio']) {
      const rungDir = path.join(videoDir, encodeId, rendition);
      const playlist = parseMediaPlaylist(await fs.readFile(path.join(rungDir, 'index.m3u8'), 'utf8'));
      assert.equal(playlist.type, 'VOD');
      // 16 s in 2-s segments; AAC priming may add a short ninth audio segment.
      if (rendition === 'audio') assert.ok([8, 9].includes(playlist.segments.length));
      else assert.equal(playlist.segments.length, 8, rendition);
      const files = (await fs.readdir(rungDir)).sort();
      const expected = ['index.m3u8', playlist.mapUri!, ...playlist.segments.map((s) => s.uri)].sort();
      assert.deepEqual(files, expected, `${rendition} holds exactly what its playlist lists`);
    }

    // The job ran again after the kill and completed once.
    await server.stop();
    server = undefined;
    const database = await openPGlite(path.join(env.DATA_DIR, 'db'));
    try {
      const jobs = await database.executeSql(
        `select state, retry_count from pgboss.job where name = 'video.process' and data->>'videoId' = $1`,
        [videoId],
      );
      assert.equal(jobs.rows.length, 1);
      const job = jobs.rows[0] as { state: string; retry_count: number };
      assert.equal(job.state, 'completed');
      assert.ok(job.retry_count >= 1, 'the killed attempt was retried');
    } finally {
      await database.close();
    }
  });
});
