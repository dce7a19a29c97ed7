import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import type { LocalStorageConfig } from '../src/config.ts';
import { startTestApp, type TestApp } from './support/harness.ts';
import { makeClip } from './support/media.ts';
import { fetchMedia, playlistUris, waitForReady } from './support/playback.ts';
import { uploadVideo } from './support/processing.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';

describe('media delivery (local storage)', () => {
  let t: TestApp;
  let video: any; // public, processed
  let unlisted: any;
  let base: string; // /media/<id>/<encode>/
  let root: string;
  const bytesOf = (file: string) => fs.readFile(path.join(root, 'videos', video.id, encodeOf(video), file));
  const encodeOf = (v: any) => new URL(v.playback.hls).pathname.split('/')[3]!;

  before(async () => {
    t = await startTestApp({ env: { HLS_SEGMENT_SECONDS: '2' } });
    root = (t.app.config.storage as LocalStorageConfig).root;
    await t.app.startWorkers();
    const clip = await makeClip(t.dir, { seconds: 4 });
    const id = await uploadVideo(t, clip, { title: 'public' });
    const unlistedId = await uploadVideo(t, clip, { title: 'unlisted', visibility: 'unlisted' });
    video = await waitForReady(t, id);
    unlisted = await waitForReady(t, unlistedId);
    base = new URL(video.playback.hls).pathname.replace('master.m3u8', '');
  });
  after(() => t.close());

  it('lists every playback URL in the API', () => {
    const encode = encodeOf(video);
    const prefix = `/media/${video.id}/${encode}/`;
    assert.equal(new URL(video.playback.hls).pathname, `${prefix}master.m3u8`);
    assert.equal(new URL(video.playback.mp4).pathname, `${prefix}download.mp4`);
    assert.equal(new URL(video.playback.storyboard).pathname, `${prefix}storyboard.vtt`);
    assert.match(new URL(video.playback.poster).pathname, new RegExp(`^${prefix}poster_\\d+\\.jpg$`));
    assert.ok(video.playback.posters.length >= 1);
  });

  it('serves each kind of file with its MIME type, cache policy, Accept-Ranges and Content-Length', async () => {
    const master = await fetchMedia(t, `${base}master.m3u8`);
    const rung = playlistUris(master.body.toString()).find((uri) => uri.endsWith('index.m3u8'))!;
    const media = await fetchMedia(t, `${base}${rung}`);
    const dir = rung.split('/')[0];
    const [init, segment] = playlistUris(media.body.toString());
    const expectations: Array<[string, string, string]> = [
      ['master.m3u8', 'application/vnd.apple.mpegurl', 'public, max-age=300'],
      [rung, 'application/vnd.apple.mpegurl', 'public, max-age=300'],
      [`${dir}/${init}`, 'video/mp4', IMMUTABLE],
      [`${dir}/${segment}`, 'video/mp4', IMMUTABLE],
      ['audio/index.m3u8', 'application/vnd.apple.mpegurl', 'public, max-age=300'],
      ['download.mp4', 'video/mp4', IMMUTABLE],
      [new URL(video.playback.poster).pathname.split('/').at(-1)!, 'image/jpeg', IMMUTABLE],
      ['storyboard.jpg', 'image/jpeg', IMMUTABLE],
      ['storyboard.vtt', 'text/vtt; charset=utf-8', 'public, max-age=300'],
    ];
    for (const [file, type, cache] of expectations) {
      const response = await fetchMedia(t, `${base}${file}`);
      assert.equal(response.status, 200, `${file}: ${response.body}`);
      assert.equal(response.headers['content-type'], type, file);
      assert.equal(response.headers['cache-control'], cache, file);
      assert.equal(response.headers['accept-ranges'], 'bytes', file);
      assert.equal(response.headers['content-length'], String(response.body.length), file);
      assert.match(response.headers.etag!, /^"[^"]+"$/, `${file}: strong ETag`);
      assert.equal(response.headers['content-encoding'], undefined, `${file}: not compressed unasked`);
      assert.deepEqual(response.body, await bytesOf(file), `${file}: exact bytes`);
    }
    assert.match(media.body.toString(), /#EXT-X-ENDLIST/);
  });

  it('plays an unlisted video by its plain link', async () => {
    const response = await fetchMedia(t, unlisted.playback.hls);
    assert.equal(response.status, 200);
    assert.equal(unlisted.visibility, 'unlisted');
    assert.doesNotMatch(unlisted.playback.hls, /\/media\/s\//);
  });

  describe('Range', () => {
    let mp4: Buffer;
    const file = () => `${base}download.mp4`;
    const range = (header: string, extra: Record<string, string> = {}) =>
      fetchMedia(t, file(), { headers: { range: header, ...extra } });
    before(async () => {
      mp4 = await bytesOf('download.mp4');
      assert.ok(mp4.length > 2000);
    });

    it('a single range → 206 with Content-Range and exactly those bytes', async () => {
      const response = await range('bytes=100-1099');
      assert.equal(response.status, 206);
      assert.equal(response.headers['content-range'], `bytes 100-1099/${mp4.length}`);
      assert.equal(response.headers['content-length'], '1000');
      assert.equal(response.headers['cache-control'], IMMUTABLE);
      assert.deepEqual(response.body, mp4.subarray(100, 1100));
    });

    it('open-ended', async () => {
      const response = await range(`bytes=${mp4.length - 10}-`);
      assert.equal(response.status, 206);
      assert.equal(
        response.headers['content-range'],
        `bytes ${mp4.length - 10}-${mp4.length - 1}/${mp4.length}`,
      );
      assert.deepEqual(response.body, mp4.subarray(mp4.length - 10));
    });

    it('suffix', async () => {
      const response = await range('bytes=-500');
      assert.equal(response.status, 206);
      assert.equal(
        response.headers['content-range'],
        `bytes ${mp4.length - 500}-${mp4.length - 1}/${mp4.length}`,
      );
      assert.deepEqual(response.body, mp4.subarray(mp4.length - 500));
      const longer = await range(`bytes=-${mp4.length * 2}`);
      assert.equal(longer.status, 206);
      assert.equal(longer.headers['content-range'], `bytes 0-${mp4.length - 1}/${mp4.length}`);
      assert.deepEqual(longer.body, mp4);
    });

    it('an end beyond the end is clamped', async () => {
      const response = await range(`bytes=1000-${mp4.length + 10_000}`);
      assert.equal(response.status, 206);
      assert.equal(response.headers['content-range'], `bytes 1000-${mp4.length - 1}/${mp4.length}`);
      assert.equal(response.headers['content-length'], String(mp4.length - 1000));
      assert.deepEqual(response.body, mp4.subarray(1000));
    });

    it('unsatisfiable → 416 with Content-Range: bytes */size', async () => {
      for (const header of [
        `bytes=${mp4.length}-`,
        `bytes=${mp4.length + 5}-${mp4.length + 10}`,
        'bytes=-0',
      ]) {
        const response = await range(header);
        assert.equal(response.status, 416, header);
        assert.equal(response.headers['content-range'], `bytes */${mp4.length}`);
        assert.equal(response.json().error.code, 'RANGE_NOT_SATISFIABLE');
        assert.equal(response.headers['cache-control'], 'no-store');
        assert.equal(response.headers.etag, undefined);
      }
    });

    it('multiple ranges → 200 with the whole file (documented choice)', async () => {
      const response = await range('bytes=0-99,200-299');
      assert.equal(response.status, 200);
      assert.equal(response.headers['content-range'], undefined);
      assert.equal(response.headers['content-length'], String(mp4.length));
      assert.deepEqual(response.body, mp4);
    });

    it('a malformed or foreign-unit Range is ignored → 200', async () => {
      for (const header of ['bytes=abc', 'bytes=50-10', 'items=0-5']) {
        const response = await range(header);
        assert.equal(response.status, 200, header);
        assert.equal(response.body.length, mp4.length);
      }
    });

    it('If-Range: the current ETag honours Range, another one sends the whole file', async () => {
      const { etag } = (await fetchMedia(t, file(), { method: 'HEAD' })).headers;
      const current = await range('bytes=0-9', { 'if-range': etag! });
      assert.equal(current.status, 206);
      const stale = await range('bytes=0-9', { 'if-range': '"stale"' });
      assert.equal(stale.status, 200);
      assert.equal(stale.body.length, mp4.length);
    });

    it('works on segments and on playlists too', async () => {
      const segment = await fetchMedia(t, `${base}audio/seg_00000.m4s`, { headers: { range: 'bytes=0-7' } });
      assert.equal(segment.status, 206);
      assert.deepEqual(segment.body, (await bytesOf('audio/seg_00000.m4s')).subarray(0, 8));
      const playlist = await fetchMedia(t, `${base}master.m3u8`, { headers: { range: 'bytes=0-6' } });
      assert.equal(playlist.status, 206);
      assert.equal(playlist.body.toString(), '#EXTM3U');
    });
  });

  describe('HEAD', () => {
    it('answers the headers of GET without a body, without reading a binary file', async () => {
      // A GET opens the file through read() or locate() (the local fast path); a HEAD must do neither.
      const store = t.app.store;
      const read = store.read.bind(store);
      const locate = store.locate.bind(store);
      let reads = 0;
      store.read = (key, range) => {
        reads++;
        return read(key, range);
      };
      store.locate = (key, ttl) => {
        reads++;
        return locate(key, ttl);
      };
      try {
        for (const file of ['download.mp4', 'audio/seg_00001.m4s', 'storyboard.jpg']) {
          const get = await fetchMedia(t, `${base}${file}`);
          assert.ok(reads > 0, 'the spy sees GETs');
          const readsBefore = reads;
          const head = await fetchMedia(t, `${base}${file}`, { method: 'HEAD' });
          assert.equal(reads, readsBefore, `${file}: HEAD read the file`);
          assert.equal(head.status, 200);
          assert.equal(head.body.length, 0);
          for (const name of ['content-type', 'content-length', 'etag', 'cache-control', 'accept-ranges']) {
            assert.equal(head.headers[name], get.headers[name], `${file}: ${name}`);
          }
          const ranged = await fetchMedia(t, `${base}${file}`, {
            method: 'HEAD',
            headers: { range: 'bytes=0-9' },
          });
          assert.equal(ranged.status, 206);
          assert.equal(ranged.headers['content-length'], '10');
          assert.equal(ranged.body.length, 0);
        }
      } finally {
        store.read = read;
        store.locate = locate;
      }
      const playlist = await fetchMedia(t, `${base}master.m3u8`, {
        method: 'HEAD',
        headers: { 'accept-encoding': 'gzip' },
      });
      const playlistGet = await fetchMedia(t, `${base}master.m3u8`, {
        headers: { 'accept-encoding': 'gzip' },
      });
      assert.equal(playlist.status, 200);
      assert.equal(playlist.body.length, 0);
      assert.equal(playlist.headers['content-length'], playlistGet.headers['content-length']);
      assert.equal(playlist.headers.etag, playlistGet.headers.etag);
      const missing = await fetchMedia(t, `${base}audio/seg_09999.m4s`, { method: 'HEAD' });
      assert.equal(missing.status, 404);
    });
  });

  describe('ETag and 304', () => {
    it('a playlist revalidates to 304 with its content ETag', async () => {
      const first = await fetchMedia(t, `${base}master.m3u8`);
      const again = await fetchMedia(t, `${base}master.m3u8`, {
        headers: { 'if-none-match': first.headers.etag! },
      });
      assert.equal(again.status, 304);
      assert.equal(again.body.length, 0);
      assert.equal(again.headers.etag, first.headers.etag);
      assert.equal(again.headers['cache-control'], 'public, max-age=300');
      const other = await fetchMedia(t, `${base}master.m3u8`, { headers: { 'if-none-match': '"other"' } });
      assert.equal(other.status, 200);
      const list = await fetchMedia(t, `${base}master.m3u8`, {
        headers: { 'if-none-match': `"x", W/${first.headers.etag}` },
      });
      assert.equal(list.status, 304);
    });

    it('the ETag is a hash of the content: two identical playlists share it', async () => {
      const a = await fetchMedia(t, `${base}audio/index.m3u8`);
      const b = await fetchMedia(t, unlisted.playback.hls.replace('master.m3u8', 'audio/index.m3u8'));
      assert.deepEqual(a.body, b.body);
      assert.equal(a.headers.etag, b.headers.etag);
      const master = await fetchMedia(t, `${base}master.m3u8`);
      assert.notEqual(master.headers.etag, a.headers.etag);
    });

    it('each content coding has its own strong ETag, and any of them revalidates', async () => {
      const plain = await fetchMedia(t, `${base}master.m3u8`);
      const br = await fetchMedia(t, `${base}master.m3u8`, { headers: { 'accept-encoding': 'br' } });
      assert.notEqual(plain.headers.etag, br.headers.etag);
      const revalidated = await fetchMedia(t, `${base}master.m3u8`, {
        headers: { 'accept-encoding': 'br', 'if-none-match': plain.headers.etag! },
      });
      assert.equal(revalidated.status, 304);
      assert.equal(revalidated.headers.etag, br.headers.etag);
    });

    it('segments revalidate too', async () => {
      const first = await fetchMedia(t, `${base}audio/seg_00000.m4s`);
      const again = await fetchMedia(t, `${base}audio/seg_00000.m4s`, {
        headers: { 'if-none-match': first.headers.etag! },
      });
      assert.equal(again.status, 304);
      assert.equal(again.body.length, 0);
    });
  });

  describe('compression', () => {
    it('gzip and brotli for playlists and VTT when accepted, with Vary: Accept-Encoding', async () => {
      for (const file of ['master.m3u8', 'audio/index.m3u8', 'storyboard.vtt']) {
        const plain = await fetchMedia(t, `${base}${file}`);
        assert.equal(plain.headers.vary, 'Accept-Encoding');
        const gz = await fetchMedia(t, `${base}${file}`, { headers: { 'accept-encoding': 'gzip' } });
        assert.equal(gz.headers['content-encoding'], 'gzip', file);
        assert.equal(gz.headers['content-length'], String(gz.body.length));
        assert.deepEqual(zlib.gunzipSync(gz.body), plain.body);
        const br = await fetchMedia(t, `${base}${file}`, {
          headers: { 'accept-encoding': 'gzip, deflate, br' },
        });
        assert.equal(br.headers['content-encoding'], 'br', file);
        assert.deepEqual(zlib.brotliDecompressSync(br.body), plain.body);
        assert.equal(br.headers['content-type'], plain.headers['content-type']);
      }
    });

    it('never compresses segments, init files, images or the MP4', async () => {
      for (const file of ['audio/seg_00000.m4s', 'audio/init_audio.mp4', 'storyboard.jpg', 'download.mp4']) {
        const response = await fetchMedia(t, `${base}${file}`, {
          headers: { 'accept-encoding': 'gzip, br' },
        });
        assert.equal(response.status, 200);
        assert.equal(response.headers['content-encoding'], undefined, file);
        assert.deepEqual(response.body, await bytesOf(file));
      }
    });
  });

  describe('playlists of an encode still being written', () => {
    it('are short-lived (EVENT), then long-lived once the encode is finished (VOD)', async () => {
      // Make the served encode look in progress again (pending = served, as during a first encode).
      const db = t.app.database.db;
      const encode = encodeOf(unlisted);
      await db
        .updateTable('videos')
        .set({ pending_encode_id: encode })
        .where('id', '=', unlisted.id)
        .execute();
      await new Promise((resolve) => setTimeout(resolve, 1100)); // access facts are cached for 1 s
      const playlistUrl = unlisted.playback.hls.replace('master.m3u8', 'audio/index.m3u8');
      const live = await fetchMedia(t, playlistUrl);
      assert.equal(live.headers['cache-control'], 'public, max-age=2');
      const segment = await fetchMedia(
        t,
        unlisted.playback.hls.replace('master.m3u8', 'audio/seg_00000.m4s'),
      );
      assert.equal(segment.headers['cache-control'], IMMUTABLE);
      await db.updateTable('videos').set({ pending_encode_id: null }).where('id', '=', unlisted.id).execute();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const vod = await fetchMedia(t, playlistUrl);
      assert.equal(vod.headers['cache-control'], 'public, max-age=300');
    });
  });

  describe('CORS', () => {
    it('answers a preflight for a ranged GET, allowing Range', async () => {
      const response = await fetchMedia(t, `${base}audio/seg_00000.m4s`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://player.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'range',
        },
      });
      assert.equal(response.status, 204);
      assert.equal(response.headers['access-control-allow-origin'], '*');
      assert.match(response.headers['access-control-allow-methods']!, /\bGET\b/);
      assert.match(response.headers['access-control-allow-headers']!, /\bRange\b/);
    });

    it('exposes Content-Range, Content-Length and Accept-Ranges on media responses', async () => {
      const response = await fetchMedia(t, `${base}download.mp4`, {
        headers: { origin: 'https://player.example', range: 'bytes=0-9' },
      });
      assert.equal(response.status, 206);
      assert.equal(response.headers['access-control-allow-origin'], '*');
      const exposed = response.headers['access-control-expose-headers']!.split(/\s*,\s*/);
      for (const name of ['Content-Range', 'Content-Length', 'Accept-Ranges'])
        assert.ok(exposed.includes(name));
    });
  });

  describe('errors', () => {
    const codeOf = async (url: string) => {
      const response = await fetchMedia(t, url);
      return [response.status, response.json().error.code, response.headers['cache-control']];
    };

    it('a missing segment is 404 MEDIA_NOT_FOUND, not cached', async () => {
      assert.deepEqual(await codeOf(`${base}audio/seg_09999.m4s`), [404, 'MEDIA_NOT_FOUND', 'no-store']);
      assert.deepEqual(await codeOf(`${base}1080p/index.m3u8`), [404, 'MEDIA_NOT_FOUND', 'no-store']);
    });

    it('an unknown video is 404 VIDEO_NOT_FOUND; an encode that is not served is 404', async () => {
      assert.deepEqual((await codeOf(`/media/AAAAAAAAAAAA/${encodeOf(video)}/master.m3u8`)).slice(0, 2), [
        404,
        'VIDEO_NOT_FOUND',
      ]);
      assert.deepEqual((await codeOf(`/media/${video.id}/AAAAAAAAAAAA/master.m3u8`)).slice(0, 2), [
        404,
        'MEDIA_NOT_FOUND',
      ]);
      // Another video's encode under this video's id.
      assert.deepEqual((await codeOf(`/media/${video.id}/${encodeOf(unlisted)}/master.m3u8`)).slice(0, 2), [
        404,
        'MEDIA_NOT_FOUND',
      ]);
    });

    it('names that cannot be files of an encode are 404, malformed ids 400: never a storage key', async () => {
      for (const file of [
        'source.mov',
        'master.m3u8.bak',
        'a/b/seg.m4s',
        '..%2F..%2Fsource',
        '%2E%2E/x.m3u8',
      ]) {
        const [status, code] = await codeOf(`${base}${file}`);
        assert.equal(status, 404, file);
        assert.match(code, /^(MEDIA_)?NOT_FOUND$/, file); // no route, or no such file
      }
      for (const url of [
        `/media/short/${encodeOf(video)}/master.m3u8`,
        `/media/${video.id}/..%2F..%2F/x.m3u8`,
      ]) {
        const response = await fetchMedia(t, url);
        assert.ok(response.status === 400 || response.status === 404, `${url}: ${response.status}`);
      }
    });

    it('a deleted video is 410 VIDEO_DELETED', async () => {
      const id = await uploadVideo(t, await makeClip(t.dir, { seconds: 2, name: 'deleted.mp4' }), {});
      const doomed = await waitForReady(t, id);
      const deleted = await t.request({ method: 'DELETE', url: `/api/v1/videos/${id}` });
      assert.equal(deleted.statusCode, 204);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      for (const file of ['master.m3u8', 'download.mp4']) {
        const [status, code] = await codeOf(doomed.playback.hls.replace('master.m3u8', file));
        assert.deepEqual([status, code], [410, 'VIDEO_DELETED']);
      }
    });
  });

  it('documents every media route in OpenAPI', async () => {
    const spec = (await t.request({ method: 'GET', url: '/docs/json' })).json();
    const media = Object.entries(spec.paths as Record<string, any>).filter(([route]) =>
      route.startsWith('/media/'),
    );
    assert.equal(media.length, 2, Object.keys(spec.paths).join(' '));
    for (const [route, operations] of media) {
      for (const method of ['get', 'head']) {
        assert.deepEqual(operations[method]?.tags, ['playback'], `${method} ${route}`);
        assert.ok(operations[method].summary, `${method} ${route}`);
        assert.ok(operations[method].responses['206'], `${method} ${route}: 206`);
        assert.ok(operations[method].responses['416'], `${method} ${route}: 416`);
      }
    }
  });
});

describe('CORS allow-list', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: 'https://a.example, http://localhost:5173' } });
  });
  after(() => t.close());

  it('reflects a listed origin and ignores others', async () => {
    const preflight = (origin: string) =>
      fetchMedia(t, '/media/AAAAAAAAAAAA/BBBBBBBBBBBB/master.m3u8', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'range',
        },
      });
    const listed = await preflight('https://a.example');
    assert.equal(listed.headers['access-control-allow-origin'], 'https://a.example');
    assert.match(listed.headers.vary!, /Origin/);
    assert.match(listed.headers['access-control-allow-headers']!, /\bRange\b/);
    const other = await preflight('https://evil.example');
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });
});
