import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { startTestApp, type TestApp } from './support/harness.ts';
import { fetchMedia } from './support/playback.ts';
import { seedReadyVideo } from './support/videos.ts';

/**
 * Issue 7, findings 5, 10 and 13: forwarded headers are believed only from configured proxies,
 * absolute playback URLs only name allowed hosts, a signed URL has one spelling, /metrics can be locked.
 */

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/** GET /api/v1/videos/:id as an inject() with full control over headers and the peer address. */
async function hlsUrl(
  t: TestApp,
  id: string,
  headers: Record<string, string>,
  remoteAddress?: string,
): Promise<string> {
  const response = await t.app.http.inject({
    method: 'GET',
    url: `/api/v1/videos/${id}`,
    headers,
    ...(remoteAddress ? { remoteAddress } : {}),
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json().playback.hls;
}

const newUpload = { filename: 'a.mp4', size: 1000, contentType: 'video/mp4' };

/** An anonymous POST /api/v1/uploads (rate-limited per IP, since no credential is sent). */
async function anonymousUpload(t: TestApp, forwardedFor: string): Promise<number> {
  const response = await t.request({
    method: 'POST',
    url: '/api/v1/uploads',
    json: newUpload,
    auth: null,
    headers: { 'x-forwarded-for': forwardedFor },
  });
  return response.statusCode;
}

describe('HTTP hardening with the defaults (no proxy trusted, no metrics token)', () => {
  let t: TestApp;
  let publicId: string;
  let publicPath: string;
  let privateId: string;

  before(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_UPLOADS_PER_MINUTE: '2' } });
    publicId = 'hardenpub001';
    publicPath = `/media/${publicId}/${await seedReadyVideo(t, publicId, { visibility: 'public' })}/master.m3u8`;
    privateId = 'hardenpriv01';
    await seedReadyVideo(t, privateId, { visibility: 'private' });
  });
  after(() => t.close());

  it('forged X-Forwarded-Host / -Proto are ignored: URLs stay on the Host, http', async () => {
    const url = await hlsUrl(t, publicId, {
      host: 'localhost:8080',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'javascript',
    });
    assert.equal(url, `http://localhost:8080${publicPath}`);
  });

  it('a Host header outside the allow-list gets relative URLs', async () => {
    assert.equal(await hlsUrl(t, publicId, { host: 'evil.example' }), publicPath);
    assert.equal(await hlsUrl(t, publicId, { host: 'localhost.evil.example:8080' }), publicPath);
    // The listener's own names are allowed by default, with any port.
    assert.equal(await hlsUrl(t, publicId, { host: '127.0.0.1:9999' }), `http://127.0.0.1:9999${publicPath}`);
    assert.equal(await hlsUrl(t, publicId, { host: '[::1]:8080' }), `http://[::1]:8080${publicPath}`);
    const machine = os.hostname().toLowerCase();
    assert.equal(
      await hlsUrl(t, publicId, { host: `${machine}:8080` }),
      `http://${machine}:8080${publicPath}`,
    );
  });

  it('X-Forwarded-For does not change the client IP (the per-IP rate-limit bucket)', async () => {
    // RATE_LIMIT_UPLOADS_PER_MINUTE=2, no credential: keyed by request.ip. Three different forged
    // addresses from one peer share one bucket, so the third request is limited.
    assert.equal(await anonymousUpload(t, '203.0.113.1'), 401);
    assert.equal(await anonymousUpload(t, '203.0.113.2'), 401);
    assert.equal(await anonymousUpload(t, '203.0.113.3'), 429);
  });

  it('a non-canonical spelling of a valid signed URL is 403 MEDIA_SIGNATURE_INVALID', async () => {
    const video = (await t.request({ method: 'GET', url: `/api/v1/videos/${privateId}` })).json();
    const path = new URL(video.playback.hls).pathname;
    const [, , , expires, signature, id, encode, file] = path.split('/');
    assert.equal((await fetchMedia(t, path)).status, 200, 'the canonical URL works');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(signature!.at(-1)!);
    const sibling = signature!.slice(0, -1) + alphabet[last ^ 1];
    for (const spelling of [
      `/media/s/${expires}/${sibling}/${id}/${encode}/${file}`,
      `/media/s/0${expires}/${signature}/${id}/${encode}/${file}`,
    ]) {
      const response = await fetchMedia(t, spelling);
      assert.equal(response.status, 403, spelling);
      assert.equal(response.json().error.code, 'MEDIA_SIGNATURE_INVALID', spelling);
    }
  });

  it('/metrics is open by default (Prometheus convention), /docs too', async () => {
    const metrics = await t.request({ method: 'GET', url: '/metrics', auth: null });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /process_cpu_user_seconds_total/);
    assert.equal((await t.request({ method: 'GET', url: '/docs/json', auth: null })).statusCode, 200);
  });
});

describe('HTTP hardening behind a trusted proxy, with a metrics token', () => {
  let t: TestApp;
  let publicId: string;
  let publicPath: string;

  before(async () => {
    t = await startTestApp({
      env: {
        TRUST_PROXY: '127.0.0.1',
        ALLOWED_HOSTS: 'reel.example, localhost',
        RATE_LIMIT_UPLOADS_PER_MINUTE: '2',
        METRICS_TOKEN,
      },
    });
    publicId = 'hardenpub002';
    publicPath = `/media/${publicId}/${await seedReadyVideo(t, publicId, { visibility: 'public' })}/master.m3u8`;
  });
  after(() => t.close());

  it('the proto and host forwarded by the trusted proxy are used when the host is allowed', async () => {
    // inject()'s peer is 127.0.0.1, the configured proxy.
    const forwarded = { host: 'localhost', 'x-forwarded-host': 'reel.example', 'x-forwarded-proto': 'https' };
    assert.equal(await hlsUrl(t, publicId, forwarded), `https://reel.example${publicPath}`);
    assert.equal(await hlsUrl(t, publicId, { host: 'localhost:8080' }), `http://localhost:8080${publicPath}`);
  });

  it('even from the trusted proxy, a host outside ALLOWED_HOSTS or a scheme other than http(s) → relative', async () => {
    const evilHost = { host: 'localhost', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    assert.equal(await hlsUrl(t, publicId, evilHost), publicPath);
    const evilProto = {
      host: 'localhost',
      'x-forwarded-host': 'reel.example',
      'x-forwarded-proto': 'javascript',
    };
    assert.equal(await hlsUrl(t, publicId, evilProto), publicPath);
    // ALLOWED_HOSTS replaces the defaults.
    assert.equal(await hlsUrl(t, publicId, { host: '127.0.0.1:8080' }), publicPath);
  });

  it('forwarded headers from a peer that is not the proxy are ignored', async () => {
    const forged = { host: 'localhost', 'x-forwarded-host': 'reel.example', 'x-forwarded-proto': 'https' };
    assert.equal(await hlsUrl(t, publicId, forged, '198.51.100.7'), `http://localhost${publicPath}`);
  });

  it('X-Forwarded-For from the trusted proxy names the client (one rate-limit bucket per client)', async () => {
    // The counterpart of the default test: the same three requests now come from three clients.
    assert.equal(await anonymousUpload(t, '203.0.113.1'), 401);
    assert.equal(await anonymousUpload(t, '203.0.113.2'), 401);
    assert.equal(await anonymousUpload(t, '203.0.113.3'), 401);
    assert.equal(await anonymousUpload(t, '203.0.113.3'), 401);
    assert.equal(await anonymousUpload(t, '203.0.113.3'), 429);
  });

  it('METRICS_TOKEN: /metrics needs Authorization: Bearer <token>', async () => {
    const none = await t.request({ method: 'GET', url: '/metrics', auth: null });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().error.code, 'AUTH_REQUIRED');
    assert.doesNotMatch(none.body, /process_cpu/);
    for (const wrong of [`${METRICS_TOKEN}x`, METRICS_TOKEN.slice(1), t.apiKey]) {
      const response = await t.request({ method: 'GET', url: '/metrics', auth: wrong });
      assert.equal(response.statusCode, 401, wrong);
      assert.equal(response.json().error.code, 'AUTH_INVALID', wrong);
    }
    const ok = await t.request({ method: 'GET', url: '/metrics', auth: METRICS_TOKEN });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /process_cpu_user_seconds_total/);
    // The API docs stay public.
    assert.equal((await t.request({ method: 'GET', url: '/docs/json', auth: null })).statusCode, 200);
  });
});

describe('TRUST_PROXY, ALLOWED_HOSTS, METRICS_TOKEN, PUBLIC_BASE_URL configuration', () => {
  it('defaults: no proxy trusted, the listener names allowed, metrics open', () => {
    const config = loadConfig({});
    assert.equal(config.http.trustProxy, false);
    const names = new Set(['localhost', '127.0.0.1', '[::1]', os.hostname().toLowerCase()]);
    assert.deepEqual(config.http.allowedHosts, [...names]);
    assert.equal(config.http.metricsToken, undefined);
  });

  it('HOST, when it is a specific address, is allowed too', () => {
    assert.ok(loadConfig({ HOST: '192.0.2.10' }).http.allowedHosts.includes('192.0.2.10'));
    assert.ok(loadConfig({ HOST: 'fe80::1' }).http.allowedHosts.includes('[fe80::1]'));
    for (const wildcard of ['0.0.0.0', '::']) {
      const hosts = loadConfig({ HOST: wildcard }).http.allowedHosts;
      assert.ok(!hosts.includes(wildcard) && !hosts.includes(`[${wildcard}]`), wildcard);
    }
  });

  it('reads lists', () => {
    const config = loadConfig({
      TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1, FD00::/8, Loopback',
      ALLOWED_HOSTS: 'Reel.example, reel.example:8443, [::1]',
      METRICS_TOKEN,
    });
    assert.deepEqual(config.http, {
      trustProxy: ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8', 'loopback'],
      allowedHosts: ['reel.example', 'reel.example:8443', '[::1]'],
      metricsToken: METRICS_TOKEN,
    });
    for (const off of ['', 'false', 'off', '0']) {
      assert.equal(loadConfig({ TRUST_PROXY: off }).http.trustProxy, false, off);
    }
  });

  it('refuses bad values with a message naming the variable', () => {
    const cases: Array<Record<string, string>> = [
      // "Trust everyone" is what this finding is about: list the proxies instead.
      { TRUST_PROXY: 'true' },
      { TRUST_PROXY: '1' },
      { TRUST_PROXY: 'proxy.internal' },
      { TRUST_PROXY: '10.0.0.0/33' },
      { ALLOWED_HOSTS: 'https://reel.example' },
      { ALLOWED_HOSTS: 'reel.example/path' },
      { ALLOWED_HOSTS: '*' },
      { METRICS_TOKEN: 'short' },
      { METRICS_TOKEN: 'has a space in it, long enough' },
      { PUBLIC_BASE_URL: 'javascript://evil.example' },
      { PUBLIC_BASE_URL: 'reel.example' },
    ];
    for (const env of cases) {
      const name = Object.keys(env)[0]!;
      assert.throws(
        () => loadConfig(env),
        (error: Error) => error instanceof ConfigError && error.message.includes(name),
        JSON.stringify(env),
      );
    }
  });
});
