import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { type App, createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { startTestApp, type TestApp } from './support/harness.ts';
import { makeClip } from './support/media.ts';
import { fetchMedia, waitForReady } from './support/playback.ts';
import { uploadVideo } from './support/processing.ts';

/** The object's bytes, straight from the bucket. */
async function objectBytes(t: TestApp, key: string): Promise<Buffer> {
  const stream = await t.app.store.read(key);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('media delivery from S3 (s3rver)', () => {
  let t: TestApp;
  let video: any;
  let privateVideo: any;
  let prefix: string; // /media/<id>/<encode>/
  let key: (file: string) => string;

  before(async () => {
    t = await startTestApp({ storage: 's3', env: { HLS_SEGMENT_SECONDS: '2' } });
    await t.app.startWorkers();
    const clip = await makeClip(t.dir, { seconds: 4 });
    const id = await uploadVideo(t, clip, { title: 's3' });
    const privateId = await uploadVideo(t, clip, { title: 's3 private', visibility: 'private' });
    video = await waitForReady(t, id);
    privateVideo = await waitForReady(t, privateId);
    prefix = new URL(video.playback.hls).pathname.replace('master.m3u8', '');
    key = (file) => `videos${prefix.slice('/media'.length)}${file}`;
  });
  after(() => t.close());

  describe('MEDIA_DELIVERY=stream (default): bytes go through Reel', () => {
    it('streams whole files and single ranges, passing the range to S3', async () => {
      const mp4 = await objectBytes(t, key('download.mp4'));
      const whole = await fetchMedia(t, `${prefix}download.mp4`);
      assert.equal(whole.status, 200);
      assert.equal(whole.headers['content-type'], 'video/mp4');
      assert.equal(whole.headers['content-length'], String(mp4.length));
      assert.equal(whole.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.match(whole.headers.etag!, /^"[0-9a-f]{32}"$/); // the object's ETag
      assert.deepEqual(whole.body, mp4);

      const reads: Array<unknown> = [];
      const store = t.app.store;
      const read = store.read.bind(store);
      store.read = (k, range) => {
        reads.push(range);
        return read(k, range);
      };
      try {
        const ranged = await fetchMedia(t, `${prefix}download.mp4`, {
          headers: { range: 'bytes=1000-1999' },
        });
        assert.equal(ranged.status, 206);
        assert.equal(ranged.headers['content-range'], `bytes 1000-1999/${mp4.length}`);
        assert.deepEqual(ranged.body, mp4.subarray(1000, 2000));
        assert.deepEqual(reads, [{ start: 1000, end: 1999 }]);
        const suffix = await fetchMedia(t, `${prefix}download.mp4`, { headers: { range: 'bytes=-100' } });
        assert.deepEqual(suffix.body, mp4.subarray(mp4.length - 100));
        const head = await fetchMedia(t, `${prefix}download.mp4`, { method: 'HEAD' });
        assert.equal(head.headers['content-length'], String(mp4.length));
        assert.equal(reads.length, 2, 'HEAD read the object');
      } finally {
        store.read = read;
      }
      const unsatisfiable = await fetchMedia(t, `${prefix}download.mp4`, {
        headers: { range: `bytes=${mp4.length}-` },
      });
      assert.equal(unsatisfiable.status, 416);
      assert.equal(unsatisfiable.headers['content-range'], `bytes */${mp4.length}`);
    });

    it('serves playlists with ETag, 304 and compression', async () => {
      const master = await fetchMedia(t, `${prefix}master.m3u8`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(master.status, 200);
      assert.equal(master.headers['content-encoding'], 'gzip');
      assert.deepEqual(zlib.gunzipSync(master.body), await objectBytes(t, key('master.m3u8')));
      const again = await fetchMedia(t, `${prefix}master.m3u8`, {
        headers: { 'accept-encoding': 'gzip', 'if-none-match': master.headers.etag! },
      });
      assert.equal(again.status, 304);
    });

    it('a missing segment is 404, a segment revalidates with 304', async () => {
      const missing = await fetchMedia(t, `${prefix}audio/seg_09999.m4s`);
      assert.equal(missing.status, 404);
      assert.equal(missing.json().error.code, 'MEDIA_NOT_FOUND');
      const segment = await fetchMedia(t, `${prefix}audio/seg_00000.m4s`);
      assert.equal(segment.status, 200);
      const again = await fetchMedia(t, `${prefix}audio/seg_00000.m4s`, {
        headers: { 'if-none-match': segment.headers.etag! },
      });
      assert.equal(again.status, 304);
    });
  });

  describe('MEDIA_DELIVERY=redirect', () => {
    // A second Reel on the same database and bucket, configured to redirect.
    const start = async (extra: Record<string, string>): Promise<App> => {
      const s3 = t.s3!;
      const config = loadConfig({
        DATA_DIR: t.dir,
        LOG_LEVEL: 'silent',
        S3_BUCKET: s3.bucket,
        S3_ENDPOINT: s3.endpoint,
        S3_REGION: s3.config.region,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        MEDIA_DELIVERY: 'redirect',
        ...extra,
      });
      return createApp(config, { database: t.app.database });
    };
    let presigning: App;
    let cdn: App;
    before(async () => {
      presigning = await start({});
      cdn = await start({ PUBLIC_MEDIA_BASE_URL: 'https://cdn.example/reel/' });
    });
    after(async () => {
      await presigning?.close();
      await cdn?.close();
    });
    const get = async (app: App, url: string, headers: Record<string, string> = {}) => {
      const response = await app.http.inject({
        method: 'GET',
        url: new URL(url, 'http://x').pathname,
        headers,
      });
      return { status: response.statusCode, headers: response.headers, body: response.rawPayload };
    };

    it('redirects segments, init files, images and the MP4 to presigned URLs that honour Range', async () => {
      const mp4 = await objectBytes(t, key('download.mp4'));
      for (const file of ['download.mp4', 'audio/seg_00000.m4s', 'audio/init_audio.mp4', 'storyboard.jpg']) {
        const response = await get(presigning, `${prefix}${file}`);
        assert.equal(response.status, 302, file);
        const location = String(response.headers.location);
        assert.ok(location.startsWith(`${t.s3!.endpoint}/${t.s3!.bucket}/${key(file)}?`), location);
        assert.match(location, /X-Amz-Signature=/);
        assert.equal(response.headers['cache-control'], 'private, no-store');
      }
      const location = String((await get(presigning, `${prefix}download.mp4`)).headers.location);
      const fetched = await fetch(location, { headers: { range: 'bytes=10-29' } });
      assert.equal(fetched.status, 206);
      assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), mp4.subarray(10, 30));
    });

    it('still serves playlists and VTT itself (relative URIs keep resolving against Reel)', async () => {
      for (const file of ['master.m3u8', 'audio/index.m3u8', 'storyboard.vtt']) {
        const response = await get(presigning, `${prefix}${file}`, { 'accept-encoding': 'br' });
        assert.equal(response.status, 200, file);
        assert.equal(response.headers['content-encoding'], 'br');
        assert.deepEqual(zlib.brotliDecompressSync(response.body), await objectBytes(t, key(file)));
      }
    });

    it('redirects to PUBLIC_MEDIA_BASE_URL + key when configured (public videos)', async () => {
      const response = await get(cdn, `${prefix}audio/seg_00001.m4s`);
      assert.equal(response.status, 302);
      assert.equal(response.headers.location, `https://cdn.example/reel/${key('audio/seg_00001.m4s')}`);
    });

    it('a private video is never sent to the public CDN: presigned, living as long as the signature', async () => {
      const signedMp4 = privateVideo.playback.mp4 as string;
      const response = await get(cdn, signedMp4);
      assert.equal(response.status, 302);
      const location = new URL(String(response.headers.location));
      assert.equal(location.origin, t.s3!.endpoint);
      const expiresIn = Number(location.searchParams.get('X-Amz-Expires'));
      const signatureExpiry = Number(new URL(signedMp4).pathname.split('/')[3]);
      assert.ok(Math.abs(Date.now() / 1000 + expiresIn - signatureExpiry) < 5, `${expiresIn}`);
      const fetched = await fetch(location);
      assert.equal(fetched.status, 200);
      // And the signature is still checked before redirecting.
      const tampered = signedMp4.replace(/\/s\/(\d+)\//, (_m, e) => `/s/${Number(e) + 1}/`);
      assert.equal((await get(cdn, tampered)).status, 403);
    });
  });
});
