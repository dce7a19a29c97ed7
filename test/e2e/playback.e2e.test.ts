import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { formatContentDigest } from '../../src/uploads/chunks.ts';
import { makeClip } from '../support/media.ts';
import { runCli, type ServerProcess, startServerProcess } from '../support/server-process.ts';

/*
 * End to end in a real browser: Reel runs as a child process; a test page is served from ANOTHER origin
 * and plays Reel's media with hls.js (cross-origin: CORS is exercised for real) or a plain <video>.
 * If Chromium cannot start here, this test fails: it is never skipped.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const HLS_JS = path.join(ROOT, 'node_modules/hls.js/dist/hls.min.js');
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
];

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Reel e2e player</title><script src="/hls.min.js"></script></head>
<body>
<video id="video" muted autoplay playsinline width="320" height="180"></video>
<script>
  window.events = [];
  const video = document.getElementById('video');
  for (const name of ['loadedmetadata', 'playing', 'seeked', 'error', 'stalled']) {
    video.addEventListener(name, () => window.events.push(name + '@' + video.currentTime.toFixed(2)));
  }
  const params = new URLSearchParams(location.search);
  const src = params.get('src');
  if (params.get('mode') === 'hls') {
    if (!Hls.isSupported()) throw new Error('hls.js: MediaSource is not supported in this browser');
    const hls = new Hls();
    hls.on(Hls.Events.ERROR, (_event, data) => window.events.push('hls-error:' + data.type + ':' + data.details + (data.fatal ? ':fatal' : '')));
    hls.loadSource(src);
    hls.attachMedia(video);
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch((e) => window.events.push('play-error:' + e.message)));
    window.hls = hls;
  } else {
    video.src = src;
    video.play().catch((e) => window.events.push('play-error:' + e.message));
  }
  // A minimal beacon sender (the web app's player has the full one): start, first frame, a heartbeat every
  // second while playing (the real player: every 10 s), the end with navigator.sendBeacon.
  const endpoint = params.get('beacons');
  if (endpoint) {
    const base = { videoId: params.get('video'), sessionId: crypto.randomUUID(), viewerId: crypto.randomUUID() };
    let seq = 0, queue = [], lastPosition = 0;
    const push = (event) => queue.push({ t: Date.now(), ...event });
    const send = (useBeacon) => {
      if (queue.length === 0) return;
      const body = JSON.stringify({ ...base, seq: seq++, events: queue });
      queue = [];
      if (useBeacon) window.events.push('sendBeacon:' + navigator.sendBeacon(endpoint, body));
      else fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then((response) => window.events.push('beacon:' + response.status));
    };
    const height = () => window.hls?.levels[window.hls.currentLevel]?.height ?? video.videoHeight;
    const heartbeat = () => {
      const position = video.currentTime;
      push({ type: 'heartbeat', position, watched: Math.max(0, position - lastPosition), height: height(), playerHeight: video.clientHeight });
      lastPosition = position;
    };
    push({ type: 'start' });
    video.requestVideoFrameCallback(() => push({ type: 'firstFrame' }));
    video.addEventListener('waiting', () => push({ type: 'stall', phase: 'start' }));
    setInterval(() => { if (!video.paused && !video.ended) heartbeat(); send(false); }, 1000);
    video.addEventListener('ended', () => { heartbeat(); push({ type: 'end' }); send(true); window.events.push('ended'); });
  }
</script>
</body></html>`;

interface Uploaded {
  id: string;
  playback: { hls: string; mp4: string };
}

async function api(baseUrl: string, key: string, method: string, url: string, body?: unknown) {
  const response = await fetch(`${baseUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** The whole upload protocol over HTTP, then waits for the video to be ready. */
async function uploadAndProcess(
  baseUrl: string,
  key: string,
  file: string,
  visibility: string,
): Promise<Uploaded> {
  const bytes = await fs.readFile(file);
  const session = await api(baseUrl, key, 'POST', '/api/v1/uploads', {
    filename: path.basename(file),
    size: bytes.length,
    contentType: 'video/mp4',
  });
  for (let index = 0; index < session.totalChunks; index++) {
    const chunk = bytes.subarray(index * session.chunkSize, (index + 1) * session.chunkSize);
    const response = await fetch(`${baseUrl}/api/v1/uploads/${session.id}/chunks/${index}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/octet-stream',
        'content-digest': formatContentDigest(createHash('sha256').update(chunk).digest()),
      },
      body: chunk,
    });
    assert.equal(response.status, 200, await response.text());
  }
  const { videoId } = await api(baseUrl, key, 'POST', `/api/v1/uploads/${session.id}/complete`, {
    title: `e2e ${visibility}`,
    visibility,
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const video = await api(baseUrl, key, 'GET', `/api/v1/videos/${videoId}`);
    if (video.status === 'ready') return video;
    if (video.status === 'failed' || Date.now() > deadline) throw new Error(JSON.stringify(video));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The test page and hls.js, from an origin that is not Reel's. */
async function startPageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const hlsJs = await fs.readFile(HLS_JS);
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://page');
    if (url.pathname === '/hls.min.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
    } else if (url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    // `localhost` vs Reel's `127.0.0.1`, and another port: a different origin twice over.
    origin: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('playback in headless Chromium, cross-origin (e2e)', { timeout: 300_000 }, () => {
  let dir: string;
  let reel: ServerProcess | undefined;
  let pages: Awaited<ReturnType<typeof startPageServer>> | undefined;
  let browser: BrowserContext | undefined;
  let publicVideo: Uploaded;
  let privateVideo: Uploaded;
  let key: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-e2e-'));
    // Chromium first: if it cannot start here, fail at once and say so.
    browser = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
      executablePath: '/usr/bin/chromium',
      headless: false, // the args below select the new headless mode themselves
      args: CHROMIUM_ARGS,
    });
    const env = { DATA_DIR: path.join(dir, 'data'), HLS_SEGMENT_SECONDS: '2', VIEW_FLUSH_SECONDS: '1' };
    reel = await startServerProcess(env);
    const created = await runCli(['keys', 'create', '--name', 'e2e'], env);
    assert.equal(created.code, 0, created.stderr);
    key = created.stdout.trim().split('\n').at(-1)!.trim();
    const clip = await makeClip(dir, { seconds: 6 });
    publicVideo = await uploadAndProcess(reel.baseUrl, key, clip, 'public');
    privateVideo = await uploadAndProcess(reel.baseUrl, key, clip, 'private');
    pages = await startPageServer();
  });

  after(async () => {
    await browser?.close();
    await pages?.close();
    await reel?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function open(mode: 'hls' | 'mp4', src: string, extra = ''): Promise<Page> {
    const page = await browser!.newPage();
    const console: string[] = [];
    page.on('console', (message) => console.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => console.push(`pageerror: ${error.message}`));
    page.on('requestfailed', (request) =>
      console.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`),
    );
    (page as Page & { diagnostics: string[] }).diagnostics = console;
    await page.goto(`${pages!.origin}/?mode=${mode}&src=${encodeURIComponent(src)}${extra}`);
    return page;
  }

  async function playsPast(page: Page, seconds: number, timeoutMs = 30_000): Promise<void> {
    try {
      await page.waitForFunction(
        (s) => (document.getElementById('video') as HTMLVideoElement).currentTime > s,
        seconds,
        { timeout: timeoutMs, polling: 100 },
      );
    } catch (error) {
      const state = await page.evaluate(() => {
        const video = document.getElementById('video') as HTMLVideoElement;
        return {
          currentTime: video.currentTime,
          readyState: video.readyState,
          error: video.error?.message ?? video.error?.code ?? null,
          events: (window as unknown as { events: string[] }).events,
        };
      });
      const diagnostics = (page as Page & { diagnostics: string[] }).diagnostics;
      throw new Error(
        `playback did not pass ${seconds} s: ${JSON.stringify(state)}\n${diagnostics.join('\n')}\n${reel?.output()}`,
        { cause: error },
      );
    }
  }

  it('Reel and the page are on different origins', () => {
    assert.notEqual(new URL(publicVideo.playback.hls).origin, pages!.origin);
  });

  it('plays a public video with hls.js past 2 s', async () => {
    const page = await open('hls', publicVideo.playback.hls);
    try {
      await playsPast(page, 2);
    } finally {
      await page.close();
    }
  });

  it('plays a private video given nothing but its signed master URL', async () => {
    assert.match(privateVideo.playback.hls, /\/media\/s\/\d+\/[A-Za-z0-9_-]{43}\//);
    const page = await open('hls', privateVideo.playback.hls);
    try {
      await playsPast(page, 2);
    } finally {
      await page.close();
    }
    // …and the unsigned path of that video does not play.
    const unsigned = privateVideo.playback.hls.replace(/\/media\/s\/\d+\/[^/]+\//, '/media/');
    assert.equal((await fetch(unsigned)).status, 404);
  });

  it('plays the MP4 in a plain <video>, seeks to 3 s and plays on', async () => {
    const page = await open('mp4', publicVideo.playback.mp4);
    try {
      await playsPast(page, 2);
      const seeked = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const video = document.getElementById('video') as HTMLVideoElement;
            video.addEventListener('seeked', () => resolve(video.currentTime), { once: true });
            video.currentTime = 3;
          }),
      );
      assert.ok(Math.abs(seeked - 3) < 0.25, `seeked to ${seeked}`);
      await playsPast(page, 3.5);
    } finally {
      await page.close();
    }
  });

  it('a page that sends beacons while it plays makes a view, with its startup time and watch time', async () => {
    const video = (id: string) => fetch(`${reel!.baseUrl}/api/v1/videos/${id}`).then((r) => r.json());
    const before = (await video(publicVideo.id)).views;
    const beacons = `${reel!.baseUrl}/api/v1/playback/events`;
    const page = await open(
      'hls',
      publicVideo.playback.hls,
      `&video=${publicVideo.id}&beacons=${encodeURIComponent(beacons)}`,
    );
    try {
      await page.waitForFunction(
        () => (window as unknown as { events: string[] }).events.includes('ended'),
        null,
        {
          timeout: 30_000,
          polling: 100,
        },
      );
      const events = await page.evaluate(() => (window as unknown as { events: string[] }).events);
      assert.ok(events.includes('beacon:202'), events.join(' '));
      assert.ok(events.includes('sendBeacon:true'), events.join(' '));
    } finally {
      await page.close();
    }
    // Counted within a flush (1 s here), and in the statistics with a startup time.
    const deadline = Date.now() + 5000;
    while ((await video(publicVideo.id)).views < before + 1) {
      assert.ok(Date.now() < deadline, 'the view was not counted within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const stats = await fetch(`${reel!.baseUrl}/api/v1/videos/${publicVideo.id}/stats`, {
      headers: { authorization: `Bearer ${key}` },
    }).then((r) => r.json());
    assert.equal(stats.totals.views, 1);
    assert.equal(stats.totals.sessions, 1);
    assert.ok(
      stats.totals.watchTimeSeconds > 4 && stats.totals.watchTimeSeconds <= 7,
      `watched ${stats.totals.watchTimeSeconds} s`,
    );
    assert.ok(
      stats.totals.startupTimeP50Ms > 0 && stats.totals.startupTimeP50Ms < 10_000,
      JSON.stringify(stats.totals),
    );
    assert.equal(stats.totals.averageHeight, 180);
    assert.deepEqual(
      stats.breakdowns.browser.map((row: { value: string }) => row.value),
      ['Chrome'],
    );
  });
});
