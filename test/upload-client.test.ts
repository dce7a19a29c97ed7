import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type App, createApp } from '../src/app.ts';
import { readCliCredentials, saveCliCredentials } from '../src/client/credentials.ts';
import { ResumeStateFile, resumeKey } from '../src/client/resume-state.ts';
import { type UploadProgress, uploadFile } from '../src/client/upload-client.ts';
import { loadConfig } from '../src/config.ts';
import { makeClip } from './support/media.ts';

const KiB = 1024;
const CHUNK = 256 * KiB; // the server's minimum in local mode
const ROOT = path.resolve(import.meta.dirname, '..');
const NODE = process.execPath;

interface Proxy {
  url: string;
  /** Chunk PUTs passed to the server: index and the status it answered. */
  forwarded: { index: number; status: number }[];
  intercepted: number[];
  close(): Promise<void>;
}

/**
 * A tiny HTTP proxy in front of the server: it records chunk PUTs and may answer some itself
 * (`intercept` returns true after writing a response).
 */
async function startProxy(
  target: string,
  intercept: (request: http.IncomingMessage, response: http.ServerResponse, index: number) => boolean = () =>
    false,
): Promise<Proxy> {
  const forwarded: Proxy['forwarded'] = [];
  const intercepted: number[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((request, response) => {
    const match = /\/chunks\/(\d+)$/.exec(request.url ?? '');
    const index = request.method === 'PUT' && match ? Number(match[1]) : -1;
    if (index >= 0 && intercept(request, response, index)) {
      intercepted.push(index);
      return;
    }
    const upstream = http.request(
      new URL(request.url ?? '/', target),
      { method: request.method, headers: request.headers, agent },
      (answer) => {
        if (index >= 0) forwarded.push({ index, status: answer.statusCode ?? 0 });
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    // The client went away (an aborted upload): drop the upstream request too.
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    intercepted,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}

async function getJson(url: string, apiKey?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
  return { status: response.status, body: await response.json() };
}

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [path.join(ROOT, 'src/cli.ts'), ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (part) => {
      stdout += part;
    });
    child.stderr.on('data', (part) => {
      stderr += part;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Environment for a CLI child: nothing from the outer REEL_* variables leaks in. */
function cliEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...extra };
}

describe('upload client against a real server', () => {
  let dir: string;
  let app: App;
  let baseUrl: string;
  let apiKey: string;
  let clip: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reel-upload-client-'));
    app = await createApp(loadConfig({ DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'warn' }));
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
    apiKey = (await app.auth.apiKeys.create('t')).secret;
    // ≈ 3.3 MB: 13 chunks of 256 KiB.
    clip = await makeClip(dir, { seconds: 4, width: 1280, height: 720 });
  });

  after(async () => {
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('an upload stopped half-way resumes with only the missing chunks, then becomes a video', async () => {
    const statePath = path.join(dir, 'state-resume.json');
    const size = (await stat(clip)).size;
    const totalChunks = Math.ceil(size / CHUNK);
    assert.ok(totalChunks >= 10, `clip too small: ${totalChunks} chunks`);
    const proxy = await startProxy(baseUrl);
    try {
      const controller = new AbortController();
      const first: UploadProgress[] = [];
      await assert.rejects(
        uploadFile({
          baseUrl: proxy.url,
          apiKey,
          filePath: clip,
          parallel: 3,
          chunkSize: CHUNK,
          statePath,
          signal: controller.signal,
          onProgress: (progress) => {
            first.push(progress);
            if (progress.chunksDone >= Math.floor(totalChunks / 2)) controller.abort();
          },
        }),
        { name: 'AbortError' },
      );
      assert.ok(!first.some((progress) => progress.phase === 'completing'));

      // The state file remembers the session; the server says what it still needs.
      const stats = await stat(clip);
      const entry = await new ResumeStateFile(statePath).get(resumeKey(clip, stats.size, stats.mtimeMs));
      assert.ok(entry, 'resume entry written');
      assert.equal(entry.baseUrl, proxy.url);
      const missing = await settledMissingChunks(`${baseUrl}/api/v1/uploads/${entry.uploadId}`, apiKey);
      assert.ok(
        missing.length > 0 && missing.length <= totalChunks - Math.floor(totalChunks / 2),
        `${missing}`,
      );

      proxy.forwarded.length = 0;
      const second: UploadProgress[] = [];
      const result = await uploadFile({
        baseUrl: proxy.url,
        apiKey,
        filePath: clip,
        title: 'Resumed clip',
        parallel: 3,
        chunkSize: CHUNK,
        statePath,
        onProgress: (progress) => second.push(progress),
      });
      assert.equal(result.uploadId, entry.uploadId);
      assert.equal(result.resumed, true);
      assert.equal(result.chunksSent, missing.length);
      const sent = proxy.forwarded.map((put) => put.index).sort((a, b) => a - b);
      assert.deepEqual(sent, missing, 'only the missing chunks were sent');
      assert.ok(proxy.forwarded.every((put) => put.status === 200));
      // Progress starts from what the server already had and ends at every byte.
      assert.equal(second[0]!.chunksDone, totalChunks - missing.length);
      assert.deepEqual(second.at(-1), {
        bytesSent: size,
        bytesTotal: size,
        chunksDone: totalChunks,
        chunksTotal: totalChunks,
        phase: 'completing',
      });
      assert.equal(
        await new ResumeStateFile(statePath).get(resumeKey(clip, stats.size, stats.mtimeMs)),
        undefined,
      );

      const video = await getJson(`${baseUrl}/api/v1/videos/${result.videoId}`);
      assert.equal(video.status, 200);
      assert.equal(video.body.status, 'processing');
      assert.equal(video.body.title, 'Resumed clip');
      assert.equal(video.body.width, 1280);
      assert.equal(video.body.height, 720);
      assert.ok(Math.abs(video.body.durationSeconds - 4) < 0.1, `duration ${video.body.durationSeconds}`);
      assert.equal(video.body.sourceSize, size);
    } finally {
      await proxy.close();
    }
  });

  test('chunks answered 429 with Retry-After are retried after that wait', async () => {
    let refused = 0;
    const proxy = await startProxy(baseUrl, (_request, response) => {
      if (refused >= 2) return false;
      refused++;
      const body = JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'slow down', details: {} } });
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      response.end(body);
      return true;
    });
    try {
      const retries: { what: string; delayMs: number; code: unknown }[] = [];
      const started = Date.now();
      const result = await uploadFile({
        baseUrl: proxy.url,
        apiKey,
        filePath: clip,
        parallel: 3,
        chunkSize: CHUNK,
        statePath: false,
        onRetry: ({ what, delayMs, error }) =>
          retries.push({ what, delayMs, code: (error as { code?: unknown }).code }),
      });
      assert.equal(result.resumed, false);
      assert.equal(proxy.intercepted.length, 2);
      assert.equal(retries.length, 2);
      for (const retry of retries) {
        assert.match(retry.what, /^chunk \d+$/);
        assert.equal(retry.code, 'RATE_LIMITED');
        assert.ok(retry.delayMs >= 1000 && retry.delayMs <= 1100, `waited ${retry.delayMs} ms`);
      }
      assert.ok(Date.now() - started >= 1000);
      const totalChunks = Math.ceil((await stat(clip)).size / CHUNK);
      assert.deepEqual(
        proxy.forwarded.map((put) => put.index).sort((a, b) => a - b),
        Array.from({ length: totalChunks }, (_, index) => index),
        'each chunk reached the server once',
      );
      const video = await getJson(`${baseUrl}/api/v1/videos/${result.videoId}`);
      assert.equal(video.body.status, 'processing');
    } finally {
      await proxy.close();
    }
  });

  test('a chunk the server refuses for good fails the upload with its code', async () => {
    const notVideo = path.join(dir, 'not-a-video.mp4');
    await import('node:fs/promises').then((fs) => fs.writeFile(notVideo, Buffer.alloc(300 * KiB, 7)));
    await assert.rejects(
      uploadFile({ baseUrl, apiKey, filePath: notVideo, chunkSize: CHUNK, statePath: false }),
      { name: 'ReelApiError', status: 415, code: 'UPLOAD_TYPE_NOT_ALLOWED' },
    );
    await assert.rejects(uploadFile({ baseUrl, apiKey: 'reel_wrong', filePath: clip, statePath: false }), {
      status: 401,
      code: 'AUTH_INVALID',
    });
  });

  test('reel upload and reel status (key and server from the saved credentials file)', async () => {
    const cliData = path.join(dir, 'cli-data');
    await saveCliCredentials(path.join(cliData, 'cli-credentials.json'), { apiKey, baseUrl });
    const env = cliEnv({ DATA_DIR: cliData, REEL_STATE_FILE: path.join(dir, 'cli-state.json') });
    const uploaded = await run(
      ['upload', clip, '--title', 'From the CLI', '--chunk-size', '512KiB', '--json'],
      env,
    );
    assert.equal(uploaded.code, 0, uploaded.stderr);
    const line = JSON.parse(uploaded.stdout.trim());
    assert.equal(line.file, clip);
    assert.equal(line.url, `${baseUrl}/api/v1/videos/${line.videoId}`);
    assert.match(uploaded.stderr, /100%/);

    const status = await run(['status', line.videoId], env);
    assert.equal(status.code, 0, status.stderr);
    const video = JSON.parse(status.stdout);
    assert.equal(video.id, line.videoId);
    assert.equal(video.title, 'From the CLI');

    const missingFile = await run(['upload', clip, path.join(dir, 'nope.mp4')], env);
    assert.equal(missingFile.code, 1);
    assert.match(missingFile.stderr, /nope\.mp4: no such file/);
  });

  test('reel upload without any key says how to create one', async () => {
    const env = cliEnv({ DATA_DIR: path.join(dir, 'empty-data'), REEL_URL: baseUrl });
    const result = await run(['upload', clip], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no API key/);
    assert.match(result.stderr, /reel keys create --name/);
  });
});

test('reel keys create saves the new key for the CLI (0600) and prints it last', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reel-keys-create-'));
  try {
    const result = await run(['keys', 'create', '--name', 'laptop'], cliEnv({ DATA_DIR: dir, PORT: '9123' }));
    assert.equal(result.code, 0, result.stderr);
    const secret = result.stdout.trim().split('\n').at(-1)!;
    const file = path.join(dir, 'cli-credentials.json');
    assert.deepEqual(await readCliCredentials(file), { apiKey: secret, baseUrl: 'http://localhost:9123' });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.match(result.stderr, /cli-credentials\.json/);
    assert.ok(JSON.parse(await readFile(file, 'utf8')).apiKey.startsWith('reel_'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** missingChunks once two reads 100 ms apart agree (a chunk in flight at the abort may still land). */
async function settledMissingChunks(url: string, apiKey: string): Promise<number[]> {
  let previous = '';
  for (let i = 0; i < 50; i++) {
    const { status, body } = await getJson(url, apiKey);
    assert.equal(status, 200);
    const current = JSON.stringify(body.missingChunks);
    if (current === previous) return body.missingChunks;
    previous = current;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('upload status did not settle');
}
