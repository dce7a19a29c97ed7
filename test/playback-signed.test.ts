import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openPGlite } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrations.ts';
import { loadSigningSecret } from '../src/playback/signing-secret.ts';
import { MediaUrlSigner } from '../src/playback/url-signer.ts';
import { startTestApp, type TestApp } from './support/harness.ts';
import { makeClip } from './support/media.ts';
import { fetchMedia, playlistUris, waitForReady } from './support/playback.ts';
import { uploadVideo } from './support/processing.ts';

/** Every URL a player reaches from a master playlist URL, resolved the way a player resolves them. */
async function crawl(t: TestApp, masterUrl: string): Promise<string[]> {
  const seen: string[] = [];
  const queue = [masterUrl];
  while (queue.length > 0) {
    const url = queue.shift()!;
    seen.push(url);
    if (!url.endsWith('.m3u8')) continue;
    const response = await fetchMedia(t, url);
    assert.equal(response.status, 200, `${url}: ${response.body}`);
    for (const uri of playlistUris(response.body.toString())) queue.push(new URL(uri, url).href);
  }
  return seen;
}

describe('private videos and signed URLs', () => {
  let t: TestApp;
  let privateId: string;
  let video: any; // as the API returns it to an API key
  let publicVideo: any;

  before(async () => {
    t = await startTestApp({ env: { HLS_SEGMENT_SECONDS: '2', SIGNED_URL_TTL_SECONDS: '3600' } });
    await t.app.startWorkers();
    const clip = await makeClip(t.dir, { seconds: 4 });
    privateId = await uploadVideo(t, clip, { title: 'secret', visibility: 'private' });
    const publicId = await uploadVideo(t, clip, { title: 'public' });
    video = await waitForReady(t, privateId);
    publicVideo = await waitForReady(t, publicId);
  });
  after(() => t.close());

  describe('GET /api/v1/videos/:id', () => {
    it('without an API key, a private video does not exist (404, as an unknown id)', async () => {
      const anonymous = await t.request({ method: 'GET', url: `/api/v1/videos/${privateId}`, auth: null });
      assert.equal(anonymous.statusCode, 404);
      assert.equal(anonymous.json().error.code, 'VIDEO_NOT_FOUND');
      const events = await t.request({
        method: 'GET',
        url: `/api/v1/videos/${privateId}/events`,
        auth: null,
      });
      assert.equal(events.statusCode, 404);
    });

    it('an invalid key is 401 whichever video is asked for (existence is not revealed)', async () => {
      for (const id of [privateId, publicVideo.id, 'AAAAAAAAAAAA']) {
        const response = await t.request({ method: 'GET', url: `/api/v1/videos/${id}`, auth: 'reel_nope' });
        assert.equal(response.statusCode, 401, id);
        assert.equal(response.json().error.code, 'AUTH_INVALID');
      }
    });

    it('with the API key: signed playback URLs, expiring after SIGNED_URL_TTL_SECONDS', () => {
      assert.equal(video.visibility, 'private');
      const now = Date.now() / 1000;
      for (const url of [
        video.playback.hls,
        video.playback.mp4,
        video.playback.poster,
        video.playback.storyboard,
      ]) {
        const match = /\/media\/s\/(\d+)\/([A-Za-z0-9_-]{43})\/([^/]+)\/([^/]+)\/[^/]+$/.exec(
          new URL(url).pathname,
        );
        assert.ok(match, url);
        const expires = Number(match[1]);
        assert.ok(expires >= now + 3600 - 5 && expires <= now + 3600 + 300, `expiry ${expires - now} s away`);
        assert.equal(match[3], privateId);
      }
    });

    it('public videos get plain URLs, with or without a key', async () => {
      assert.doesNotMatch(publicVideo.playback.hls, /\/media\/s\//);
      const anonymous = (
        await t.request({ method: 'GET', url: `/api/v1/videos/${publicVideo.id}`, auth: null })
      ).json();
      assert.equal(anonymous.playback.hls, publicVideo.playback.hls);
    });
  });

  describe('media', () => {
    it('the unsigned path of a private video is 404, as an unknown video', async () => {
      const signed = new URL(video.playback.hls).pathname;
      const unsigned = signed.replace(/^\/media\/s\/\d+\/[^/]+\//, '/media/');
      for (const url of [unsigned, unsigned.replace('master.m3u8', 'download.mp4')]) {
        const response = await fetchMedia(t, url);
        assert.equal(response.status, 404);
        assert.equal(response.json().error.code, 'VIDEO_NOT_FOUND');
      }
    });

    it('the signed master authorizes every URL inside the playlists and the VTT', async () => {
      const urls = await crawl(t, video.playback.hls);
      assert.ok(urls.some((url) => url.endsWith('.m4s')));
      assert.ok(urls.some((url) => /init_[a-z0-9]+\.mp4$/.test(url)));
      const vtt = await fetchMedia(t, video.playback.storyboard);
      assert.equal(vtt.status, 200);
      const sprite = /^(\S+?)#xywh=/m.exec(vtt.body.toString())![1]!;
      urls.push(new URL(sprite, video.playback.storyboard).href);
      urls.push(video.playback.mp4, video.playback.poster);
      for (const url of urls) {
        assert.match(url, /\/media\/s\//, url);
        const response = await fetchMedia(t, url);
        assert.equal(response.status, 200, `${url}: ${response.body.subarray(0, 200)}`);
        const maxAge = Number(/max-age=(\d+)/.exec(response.headers['cache-control']!)![1]);
        assert.ok(maxAge <= 3600 + 300, `${url}: cached ${maxAge} s, beyond the signature`);
      }
      const ranged = await fetchMedia(t, video.playback.mp4, { headers: { range: 'bytes=0-99' } });
      assert.equal(ranged.status, 206);
    });

    it('a tampered signature, expiry, video or file path is 403 MEDIA_SIGNATURE_INVALID', async () => {
      const path = new URL(video.playback.hls).pathname;
      const [, , , expires, signature, id, encode, file] = path.split('/');
      const flip = (s: string) => s.slice(0, 5) + (s[5] === 'A' ? 'B' : 'A') + s.slice(6);
      const tampered = [
        `/media/s/${expires}/${flip(signature!)}/${id}/${encode}/${file}`,
        `/media/s/${Number(expires) + 3600}/${signature}/${id}/${encode}/${file}`,
        `/media/s/${expires}/${signature!.slice(0, 20)}/${id}/${encode}/${file}`,
        `/media/s/soon/${signature}/${id}/${encode}/${file}`,
        // The signature of this private video does not open the public one.
        `/media/s/${expires}/${signature}/${publicVideo.id}/${new URL(publicVideo.playback.hls).pathname.split('/')[3]}/master.m3u8`,
      ];
      for (const url of tampered) {
        const response = await fetchMedia(t, url);
        assert.equal(response.status, 403, url);
        assert.equal(response.json().error.code, 'MEDIA_SIGNATURE_INVALID', url);
        assert.equal(response.headers['cache-control'], 'no-store');
      }
    });

    it('an expired signature is 403 MEDIA_SIGNATURE_EXPIRED', async () => {
      const [, , , , , id, encode] = new URL(video.playback.hls).pathname.split('/');
      const secret = await loadSigningSecret(t.app.database.db, undefined);
      const signer = new MediaUrlSigner(secret);
      const past = Math.floor(Date.now() / 1000) - 10;
      for (const file of ['master.m3u8', 'download.mp4']) {
        const response = await fetchMedia(t, signer.signedMediaPath(id!, encode!, file, past));
        assert.equal(response.status, 403);
        assert.equal(response.json().error.code, 'MEDIA_SIGNATURE_EXPIRED');
      }
      // The same signer, a future expiry: valid (the secret is the one the server uses).
      const future = Math.floor(Date.now() / 1000) + 60;
      const ok = await fetchMedia(t, signer.signedMediaPath(id!, encode!, 'master.m3u8', future));
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['cache-control'], `public, max-age=${future - Math.floor(Date.now() / 1000)}`);
    });

    it('signed URLs work for public videos too', async () => {
      const secret = await loadSigningSecret(t.app.database.db, undefined);
      const [, , id, encode] = new URL(publicVideo.playback.hls).pathname.split('/');
      const expires = Math.floor(Date.now() / 1000) + 600;
      const signed = new MediaUrlSigner(secret).signedMediaPath(id!, encode!, 'master.m3u8', expires);
      assert.equal((await fetchMedia(t, signed)).status, 200);
    });
  });

  describe('the signing secret', () => {
    it('is generated once and shared through the database', async () => {
      const db = t.app.database.db;
      const first = await loadSigningSecret(db, undefined);
      assert.ok(first.length >= 32);
      assert.equal(await loadSigningSecret(db, undefined), first);
      const rows = await db.selectFrom('settings').selectAll().execute();
      assert.equal(rows.length, 1);
      // Nodes starting at once on a new database agree too.
      const fresh = await openPGlite(undefined);
      try {
        await migrate(fresh.db);
        const racing = await Promise.all([1, 2, 3, 4].map(() => loadSigningSecret(fresh.db, undefined)));
        assert.equal(new Set(racing).size, 1);
        assert.notEqual(racing[0], first);
      } finally {
        await fresh.close();
      }
    });

    it('SIGNING_SECRET wins when configured', async () => {
      const configured = 'x'.repeat(40);
      assert.equal(await loadSigningSecret(t.app.database.db, configured), configured);
    });
  });
});
