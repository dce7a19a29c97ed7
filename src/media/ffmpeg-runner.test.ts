import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runFfmpeg as makeWithFfmpeg, mediaTools } from '../../test/support/media.ts';
import type { FfmpegProgress } from './ffmpeg-progress.ts';
import { classifyFfmpegFailure, FfmpegError, probeOutputCodec, runFfmpeg } from './ffmpeg-runner.ts';

describe('runFfmpeg and probeOutputCodec (real ffmpeg)', () => {
  let dir: string;
  const { ffmpeg, ffprobe } = mediaTools();
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reel-runner-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports progress up to the end of a 2 s encode, then done', async () => {
    const updates: FfmpegProgress[] = [];
    const output = path.join(dir, 'progress.mp4');
    const args = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'warning'];
    args.push('-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-t', '2');
    args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-progress', 'pipe:1', '-nostats', output);
    const result = await runFfmpeg(ffmpeg, args, { onProgress: (update) => updates.push(update) });
    assert.equal(result.stderrTail, '');
    assert.ok(updates.length >= 1);
    const last = updates.at(-1)!;
    assert.equal(last.done, true);
    assert.equal(last.frame, 50);
    assert.ok(
      last.outTimeSeconds !== null && Math.abs(last.outTimeSeconds - 2) <= 0.1,
      `${last.outTimeSeconds}`,
    );
    assert.ok(last.speed !== null && last.speed > 0);
    assert.deepEqual(
      updates.slice(0, -1).map((u) => u.done),
      updates.slice(0, -1).map(() => false),
    );
  });

  it('a missing input rejects with reason exit, classified permanent', async () => {
    const missing = path.join(dir, 'does-not-exist.mp4');
    const error = await runFfmpeg(ffmpeg, [
      '-hide_banner',
      '-nostdin',
      '-i',
      missing,
      '-f',
      'null',
      '-',
    ]).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.reason, 'exit');
    assert.equal(error.exitCode, 1);
    assert.equal(error.signal, null);
    assert.match(error.stderrTail, /No such file or directory/);
    assert.match(error.message, /^ffmpeg exited with code 1: .*No such file or directory$/);
    assert.equal(classifyFfmpegFailure(error), 'permanent');
  });

  it('keeps only the tail of a long stderr: 60 lines, 8 KiB at most', async () => {
    // showinfo logs one ~190-character line per frame: 50 frames and the headers are > 60 lines.
    const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'];
    args.push('-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:d=2', '-vf', 'showinfo', '-f', 'null', '-');
    const { stderrTail } = await runFfmpeg(ffmpeg, args);
    const lines = stderrTail.split('\n');
    assert.ok(lines.length <= 60, `${lines.length} lines`);
    assert.ok(stderrTail.length <= 8 * 1024 && stderrTail.length > 6 * 1024, `${stderrTail.length} chars`);
    assert.match(stderrTail, /showinfo.* n: {2}49 /);
    assert.doesNotMatch(stderrTail, /showinfo.* n: {3}0 /);
    assert.match(lines.at(-1)!, /^video:\d+kB audio:0kB/);
  });

  it("an http input's query string is kept out of the stderr tail and the message", async () => {
    const url = 'http://127.0.0.1:9/v.mp4?X-Amz-Signature=deadbeef&X-Amz-Expires=60';
    const error = await runFfmpeg(ffmpeg, ['-hide_banner', '-nostdin', '-i', url, '-f', 'null', '-']).then(
      () => assert.fail('resolved'),
      (e: unknown) => e as FfmpegError,
    );
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.reason, 'exit');
    assert.match(error.stderrTail, /http:\/\/127\.0\.0\.1:9\/v\.mp4\?<redacted>: Connection refused/);
    assert.doesNotMatch(`${error.stderrTail}\n${error.message}`, /deadbeef|X-Amz/);
    assert.equal(classifyFfmpegFailure(error), 'transient');
  });

  it('a binary that does not exist rejects with reason spawn', async () => {
    const error = await runFfmpeg(path.join(dir, 'no-ffmpeg'), ['-version']).then(
      () => assert.fail('resolved'),
      (e: unknown) => e as FfmpegError,
    );
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.reason, 'spawn');
    assert.equal(error.spawnCode, 'ENOENT');
    assert.equal(classifyFfmpegFailure(error), 'transient');
    assert.equal(
      error.message,
      `Could not start no-ffmpeg (${path.join(dir, 'no-ffmpeg')}): spawn ${path.join(dir, 'no-ffmpeg')} ENOENT`,
    );
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOENT');
  });

  it('an already aborted signal rejects without starting ffmpeg', async () => {
    const error = await runFfmpeg(ffmpeg, ['-version'], { signal: AbortSignal.abort() }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e as FfmpegError,
    );
    assert.equal(error.reason, 'aborted');
    assert.equal(error.exitCode, null);
    assert.equal(error.message, 'ffmpeg was not started: the run was aborted');
  });

  it('aborting mid-run kills ffmpeg at once and leaves no process behind', async () => {
    const marker = path.join(dir, `abort-${process.pid}-${Date.now()}.mp4`);
    const controller = new AbortController();
    const { promise: started, resolve: onStarted } = Promise.withResolvers<void>();
    const run = runFfmpeg(ffmpeg, longEncodeArgs(marker), {
      signal: controller.signal,
      onProgress: () => onStarted(),
    });
    const outcome = run.then(
      () => assert.fail('resolved'),
      (e: unknown) => e as FfmpegError,
    );
    await started;
    const pid = await pidOf(marker);
    assert.ok(pid !== undefined, 'ffmpeg is running before the abort');
    const abortedAt = performance.now();
    controller.abort(new Error('shutting down'));
    const error = await outcome;
    const elapsed = performance.now() - abortedAt;
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.reason, 'aborted');
    assert.equal(error.signal, 'SIGKILL');
    assert.equal((error.cause as Error).message, 'shutting down');
    assert.ok(elapsed < 1000, `rejected ${elapsed.toFixed(0)} ms after the abort`);
    assert.equal(isAlive(pid), false, 'the process is gone (reaped, not a zombie)');
    assert.equal(classifyFfmpegFailure(error), 'transient');
  });

  it('a timeout kills ffmpeg and rejects with reason timeout', async () => {
    const marker = path.join(dir, `timeout-${process.pid}-${Date.now()}.mp4`);
    const startedAt = performance.now();
    const error = await runFfmpeg(ffmpeg, longEncodeArgs(marker), { timeoutMs: 300 }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e as FfmpegError,
    );
    assert.equal(error.reason, 'timeout');
    assert.equal(error.signal, 'SIGKILL');
    assert.ok(performance.now() - startedAt < 2000);
    assert.equal(await pidOf(marker), undefined);
  });

  it('probeOutputCodec reads H.264 High and its level from an mp4', async () => {
    const output = path.join(dir, 'high.mp4');
    await makeWithFfmpeg([
      ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-t', '1', '-pix_fmt', 'yuv420p'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', output],
    ]);
    const codec = await probeOutputCodec(ffprobe, output);
    // x264 picks the lowest level that fits 320×180 at 25 fps: 1.2 (level_idc 12, not 12 or 0.12).
    assert.deepEqual(codec, { codec: 'h264', profile: 'High', level: 1.2, width: 320, height: 180 });
  });

  it('probeOutputCodec reads an fMP4 init segment alone (from its avcC)', async () => {
    const hls = async (preset: string, name: string) => {
      await makeWithFfmpeg([
        ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'],
        ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '1', '-pix_fmt', 'yuv420p'],
        ...['-c:v', 'libx264', '-preset', preset, '-profile:v', 'high', '-level:v', '3.1'],
        ...['-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', `init_${name}.mp4`],
        ...['-hls_segment_filename', path.join(dir, `${name}_%d.m4s`), path.join(dir, `${name}.m3u8`)],
      ]);
      return probeOutputCodec(ffprobe, path.join(dir, `init_${name}.mp4`));
    };
    const expected = { codec: 'h264', profile: 'High', level: 3.1, width: 640, height: 360 };
    assert.deepEqual(await hls('veryfast', 'veryfast'), expected);
    // Without CABAC, 8×8 transforms and B-frames, x264 signals what it used, whatever it was told.
    assert.deepEqual(await hls('ultrafast', 'ultrafast'), { ...expected, profile: 'Constrained Baseline' });
  });

  it('probeOutputCodec rejects a file without video', async () => {
    const output = path.join(dir, 'audio.m4a');
    await makeWithFfmpeg(['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=d=0.2', '-c:a', 'aac', output]);
    await assert.rejects(probeOutputCodec(ffprobe, output), /no video stream with a codec profile and level/);
  });
});

/** An encode that would run for a minute; `output` doubles as a marker to find the process. */
function longEncodeArgs(output: string): string[] {
  return [
    ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'warning', '-stats_period', '0.1'],
    ...['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-t', '60'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-progress', 'pipe:1', '-nostats', output],
  ];
}

async function pidOf(marker: string): Promise<number | undefined> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'pid=,args=']);
  const line = stdout.split('\n').find((l) => l.includes(marker) && !l.includes(' ps '));
  return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
}

/** kill(pid, 0) succeeds for a zombie too: false means the process has been reaped. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
