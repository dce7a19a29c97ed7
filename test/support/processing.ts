import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import type { TestApp } from './harness.ts';
import { chunkOf, createSession, putChunk } from './uploads.ts';

/** Uploads a file through the API and completes it; returns the video id. */
export async function uploadVideo(
  t: TestApp,
  file: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const bytes = await fs.readFile(file);
  const chunkSize = Math.max(256 * 1024, t.app.config.uploads.minChunkSize);
  const session = await createSession(t, bytes, { chunkSize, filename: file.split('/').at(-1) });
  for (let index = 0; index < session.totalChunks; index++) {
    const response = await putChunk(t, session.id, index, chunkOf(bytes, chunkSize, index));
    assert.equal(response.statusCode, 200, response.body);
  }
  const complete = await t.request({
    method: 'POST',
    url: `/api/v1/uploads/${session.id}/complete`,
    json: extra,
  });
  assert.equal(complete.statusCode, 202, complete.body);
  return complete.json().videoId;
}

/** Polls the video until `done(video)` or the timeout. */
export async function waitForVideo(
  t: TestApp,
  id: string,
  done: (video: any) => boolean,
  timeoutMs = 120_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const video = (await t.request({ method: 'GET', url: `/api/v1/videos/${id}`, auth: null })).json();
    if (done(video)) return video;
    if (Date.now() > deadline) throw new Error(`timed out waiting for video ${id}: ${JSON.stringify(video)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
