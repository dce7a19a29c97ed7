import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { formatContentDigest } from '../../src/uploads/chunks.ts';
import type { TestApp } from './harness.ts';
import { makeClip } from './media.ts';

/** A real (probe-able) MP4 padded with random bytes to `size`: trailing bytes are ignored by demuxers. */
export async function makeVideoOfSize(dir: string, size: number, name = 'padded.mp4'): Promise<Buffer> {
  const clip = await makeClip(dir, { name: `source-${name}` });
  const bytes = await fs.readFile(clip);
  if (bytes.length > size) throw new Error(`clip is already ${bytes.length} bytes`);
  return Buffer.concat([bytes, randomBytes(size - bytes.length)]);
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function digestHeader(bytes: Buffer): string {
  return formatContentDigest(createHash('sha256').update(bytes).digest());
}

export function chunkOf(file: Buffer, chunkSize: number, index: number): Buffer {
  return file.subarray(index * chunkSize, Math.min(file.length, (index + 1) * chunkSize));
}

export async function createSession(
  t: TestApp,
  file: Buffer,
  extra: Record<string, unknown> = {},
  auth?: string | null,
): Promise<{ id: string; chunkSize: number; totalChunks: number }> {
  const response = await t.request({
    method: 'POST',
    url: '/api/v1/uploads',
    json: { filename: 'clip.mp4', size: file.length, contentType: 'video/mp4', ...extra },
    auth,
  });
  if (response.statusCode !== 201) throw new Error(`create failed: ${response.statusCode} ${response.body}`);
  return response.json();
}

export function putChunk(
  t: TestApp,
  id: string,
  index: number,
  bytes: Buffer,
  options: { digest?: string | null; auth?: string | null } = {},
) {
  const digest = options.digest === undefined ? digestHeader(bytes) : options.digest;
  return t.request({
    method: 'PUT',
    url: `/api/v1/uploads/${id}/chunks/${index}`,
    body: bytes,
    headers: { 'content-type': 'application/octet-stream', ...(digest ? { 'content-digest': digest } : {}) },
    auth: options.auth,
  });
}
