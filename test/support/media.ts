import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type MediaTools, resolveMediaTools } from '../../src/media/ffmpeg-binary.ts';

export interface ClipOptions {
  seconds?: number;
  width?: number;
  height?: number;
  fps?: number;
  audio?: boolean;
  format?: 'mp4' | 'mkv' | 'webm' | 'mov' | 'ts';
  /** Clockwise display rotation stored in the container (mp4 and mov only). */
  rotate?: 0 | 90 | 180 | 270;
  /** File name inside `dir`; default `clip-<w>x<h>-<fps>fps-<s>s[-silent][-rotate<r>].<format>`. */
  name?: string;
}

let tools: MediaTools | undefined;

/** ffmpeg and ffprobe as Reel would find them (PATH, or the bundled packages). */
export function mediaTools(): MediaTools {
  tools ??= resolveMediaTools({});
  return tools;
}

/**
 * Generates a small test clip with ffmpeg's lavfi sources (testsrc2 picture, 440 Hz sine) and returns
 * its path. Defaults: 2 s, 320×180, 25 fps, with audio, H.264/AAC in MP4 (VP9/Opus for WebM).
 */
export async function makeClip(dir: string, options: ClipOptions = {}): Promise<string> {
  const {
    seconds = 2,
    width = 320,
    height = 180,
    fps = 25,
    audio = true,
    format = 'mp4',
    rotate = 0,
  } = options;
  const variant = `${audio ? '' : '-silent'}${rotate ? `-rotate${rotate}` : ''}`;
  const name = options.name ?? `clip-${width}x${height}-${fps}fps-${seconds}s${variant}.${format}`;
  const output = path.join(dir, name);
  if (rotate !== 0 && format !== 'mp4' && format !== 'mov') {
    throw new Error(`makeClip: rotation is stored by the mp4 and mov muxers only, not ${format}`);
  }
  const args = ['-hide_banner', '-v', 'error', '-y'];
  args.push('-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`);
  if (audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  args.push('-t', String(seconds), '-pix_fmt', 'yuv420p');
  if (format === 'webm') {
    args.push('-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k');
    if (audio) args.push('-c:a', 'libopus', '-b:a', '48k');
  } else {
    args.push('-c:v', 'libx264', '-preset', 'ultrafast');
    if (audio) args.push('-c:a', 'aac', '-b:a', '64k');
  }
  const muxer = { mp4: 'mp4', mov: 'mov', mkv: 'matroska', webm: 'webm', ts: 'mpegts' }[format];
  if (rotate === 0) {
    await runFfmpeg([...args, '-f', muxer, output]);
    return output;
  }
  // ffmpeg 5.1 drops the rotate tag when encoding, so encode first, then remux with it. It stores the
  // legacy tag as a display matrix turned the other way: 270 here is displayed turned 90° clockwise
  // (ffprobe then reports rotation -90, like a portrait phone video).
  const unrotated = `${output}.unrotated.${format}`;
  await runFfmpeg([...args, '-f', muxer, unrotated]);
  try {
    const tag = `rotate=${(360 - rotate) % 360}`;
    await runFfmpeg([
      '-v',
      'error',
      '-y',
      '-i',
      unrotated,
      '-map',
      '0',
      '-c',
      'copy',
      '-metadata:s:v:0',
      tag,
      '-f',
      muxer,
      output,
    ]);
  } finally {
    await rm(unrotated, { force: true });
  }
  return output;
}

/** Runs ffmpeg with an argument array; rejects with its stderr when it fails. */
export function runFfmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(mediaTools().ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

/** Writes `bytes` to `dir/name` and returns the path. */
export async function makeFile(dir: string, name: string, bytes: Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

/** Hex SHA-256 of a file's content. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
