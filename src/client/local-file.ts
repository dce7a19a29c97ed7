import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Video container extensions → the MIME type sent when creating the session. */
const CONTENT_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/x-m4v',
  mov: 'video/quicktime',
  '3gp': 'video/3gpp',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
  avi: 'video/x-msvideo',
  ts: 'video/mp2t',
  mts: 'video/mp2t',
  m2ts: 'video/mp2t',
  mpg: 'video/mpeg',
  mpeg: 'video/mpeg',
  flv: 'video/x-flv',
  wmv: 'video/x-ms-wmv',
};

export function contentTypeFor(filename: string): string {
  return CONTENT_TYPES[path.extname(filename).slice(1).toLowerCase()] ?? 'application/octet-stream';
}

/** Fills `target` from `position`; a short read means the file shrank since the upload started. */
export async function readFully(
  file: FileHandle,
  target: Buffer,
  position: number,
  filePath: string,
): Promise<void> {
  let filled = 0;
  while (filled < target.length) {
    const { bytesRead } = await file.read(target, filled, target.length - filled, position + filled);
    if (bytesRead === 0)
      throw new Error(`${filePath} changed while it was being uploaded (it is shorter now)`);
    filled += bytesRead;
  }
}

/** The whole file's SHA-256 (hex), read in 1 MiB blocks. */
export async function hashFile(filePath: string, signal: AbortSignal | undefined): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of createReadStream(filePath, { highWaterMark: 1024 * 1024, signal })) {
    hash.update(part as Buffer);
  }
  return hash.digest('hex');
}
