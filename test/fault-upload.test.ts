import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type ServerProcess, startServerProcess } from './support/server-process.ts';
import { chunkOf, digestHeader, makeVideoOfSize, sha256Hex } from './support/uploads.ts';

/**
 * Fault test: the server is SIGKILLed with half of an upload received. After a restart the session
 * and its chunks are still there, the upload resumes, completes and the stored file is byte-identical.
 */
describe('upload survives a SIGKILLed server', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-fault-'));
  });
  after(async () => {
    await server?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('resumes after kill -9 and stores a byte-identical file', async () => {
    const env = { DATA_DIR: path.join(dir, 'data') };
    const chunkSize = 256 * 1024;
    const file = await makeVideoOfSize(dir, chunkSize * 6 + 777);

    server = await startServerProcess(env);
    // The CLI administers keys through the running server (PGlite is single-process).
    const created = await runCli(['keys', 'create', '--name', 'fault'], env);
    assert.equal(created.code, 0, created.stderr);
    const apiKey = created.stdout.trim().split('\n').at(-1)!;
    assert.match(apiKey, /^reel_/);
    // Saved for `reel upload` with the URL of the server that made it (not the CLI's own PORT).
    const saved = JSON.parse(await fs.readFile(path.join(env.DATA_DIR, 'cli-credentials.json'), 'utf8'));
    assert.equal(saved.apiKey, apiKey);
    assert.equal(new URL(saved.baseUrl).port, new URL(server.baseUrl).port);
    const listed = await runCli(['keys', 'list'], env);
    assert.match(listed.stdout, /fault/);

    const headers = { authorization: `Bearer ${apiKey}` };
    const api = (url: string, init: RequestInit = {}) =>
      fetch(`${server!.baseUrl}${url}`, { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
    const create = await api('/api/v1/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        filename: 'fault.mp4',
        size: file.length,
        contentType: 'video/mp4',
        chunkSize,
        sha256: sha256Hex(file),
      }),
    });
    assert.equal(create.status, 201);
    const session = (await create.json()) as { id: string; totalChunks: number };
    assert.equal(session.totalChunks, 7);

    const put = (index: number) => {
      const bytes = chunkOf(file, chunkSize, index);
      return api(`/api/v1/uploads/${session.id}/chunks/${index}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-digest': digestHeader(bytes) },
        body: new Uint8Array(bytes),
      });
    };
    for (const index of [5, 0, 3]) assert.equal((await put(index)).status, 200);

    await server.kill();
    server = await startServerProcess(env);

    const status = (await (await api(`/api/v1/uploads/${session.id}`)).json()) as {
      state: string;
      receivedChunks: number;
      missingChunks: number[];
    };
    assert.equal(status.state, 'active');
    assert.equal(status.receivedChunks, 3);
    assert.deepEqual(status.missingChunks, [1, 2, 4, 6]);
    await Promise.all(
      status.missingChunks.map(async (index) => assert.equal((await put(index)).status, 200)),
    );

    const complete = await api(`/api/v1/uploads/${session.id}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Survivor' }),
    });
    assert.equal(complete.status, 202, await complete.clone().text());
    const { videoId } = (await complete.json()) as { videoId: string };
    const video = (await (await api(`/api/v1/videos/${videoId}`)).json()) as {
      status: string;
      width: number;
    };
    assert.equal(video.status, 'processing');
    assert.equal(video.width, 320);

    const stored = await fs.readFile(path.join(env.DATA_DIR, 'media', 'sources', session.id, 'original.mp4'));
    assert.equal(createHash('sha256').update(stored).digest('hex'), sha256Hex(file));

    const revoked = await runCli(['keys', 'revoke', 'fault'], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await api(`/api/v1/uploads/${session.id}`)).status, 401);
  });
});
