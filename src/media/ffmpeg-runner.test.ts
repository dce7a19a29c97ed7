import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runFfmpeg as makeWithFfmpeg, mediaTools } from '../../test/support/media.ts';
import {
  avcConfig,
  classifyFfmpegFailure,
  createProgressParser,
  FfmpegError,
  type FfmpegProgress,
  parseProgress,
  probeOutputCodec,
  runFfmpeg,
} from './ffmpeg-runner.ts';

// Verbatim from ffmpeg 5.1 (`-progress pipe:1` of a 2 s, 25 fps encode).
const BLOCK_START =
  'frame=1\nfps=0.00\nstream_0_0_q=0.0\nbitrate=N/A\ntotal_size=N/A\nout_time_us=0\nout_time_ms=0\n' +
  'out_time=00:00:00.000000\ndup_frames=0\ndrop_frames=0\nspeed=   0x\nprogress=continue';
const BLOCK_END =
  'frame=50\nfps=0.00\nstream_0_0_q=-1.0\nbitrate=N/A\ntotal_size=N/A\nout_time_us=2000000\n' +
  'out_time_ms=2000000\nout_time=00:00:02.000000\ndup_frames=0\ndrop_frames=0\nspeed= 106x\nprogress=end';

const p = (outTimeSeconds: number | null, speed: number | null, frame: number | null, done = false) =>
  ({ outTimeSeconds, speed, frame, done }) satisfies FfmpegProgress;

describe('parseProgress', () => {
  const table: Array<[title: string, text: string, expected: FfmpegProgress[]]> = [
    [
      'a real two-block run (ffmpeg 5.1)',
      `${BLOCK_START}\n${BLOCK_END}\n`,
      [p(0, 0, 1), p(2, 106, 50, true)],
    ],
    [
      'out_time_us wins, in microseconds',
      'frame=1234\nout_time_us=41041000\nout_time_ms=41041000\nspeed=1.23x\nprogress=continue\n',
      [p(41.041, 1.23, 1234)],
    ],
    [
      'out_time_ms alone is microseconds too',
      'frame=7\nout_time_ms=1500000\nspeed=0.5x\nprogress=continue\n',
      [p(1.5, 0.5, 7)],
    ],
    [
      'N/A everywhere',
      'frame=0\nout_time_us=N/A\nout_time_ms=N/A\nout_time=N/A\nspeed=N/A\nprogress=continue\n',
      [p(null, null, 0)],
    ],
    [
      'a negative start time (audio priming) is clamped to 0',
      'out_time_us=-23220\nout_time_ms=-23220\nout_time=-00:00:00.023220\nprogress=continue\n',
      [p(0, null, null)],
    ],
    ['CRLF line ends', 'frame=3\r\nout_time_us=120000\r\nprogress=end\r\n', [p(0.12, null, 3, true)]],
    [
      'a trailing incomplete block is not reported',
      'frame=3\nout_time_us=1000000\nprogress=continue\nframe=4\nout_time_us=2000000\n',
      [p(1, null, 3)],
    ],
    ['nothing', '', []],
  ];
  for (const [title, text, expected] of table) {
    it(title, () => assert.deepEqual(parseProgress(text), expected));
  }

  it('blocks split across chunks at every possible position give the same result', () => {
    const text = `${BLOCK_START}\n${BLOCK_END}\n`;
    const whole = parseProgress(text);
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = createProgressParser();
      const parts = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      assert.deepEqual(parts, whole, `cut at ${cut}`);
    }
  });

  it('one character at a time', () => {
    const parser = createProgressParser();
    const blocks: FfmpegProgress[] = [];
    for (const char of `${BLOCK_START}\n${BLOCK_END}\n`) blocks.push(...parser.push(char));
    assert.deepEqual(blocks, [p(0, 0, 1), p(2, 106, 50, true)]);
  });
});

describe('classifyFfmpegFailure', () => {
  // [title, stderr tail of a non-zero exit (ffmpeg 5.1 wording), expected]
  const stderrTable: Array<[string, string, 'permanent' | 'transient']> = [
    [
      'random bytes',
      '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x56505ff908c0] Format mov,mp4,m4a,3gp,3g2,mj2 detected only with low ' +
        'score of 1, misdetection possible!\n[mov,mp4,m4a,3gp,3g2,mj2 @ 0x56505ff908c0] moov atom not found\n' +
        '/in/junk.mp4: Invalid data found when processing input',
      'permanent',
    ],
    ['truncated mp4', '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5620f67058c0] moov atom not found', 'permanent'],
    ['missing input file', '/in/missing.mp4: No such file or directory', 'permanent'],
    [
      'no codec parameters',
      '[mpegts @ 0x55] Could not find codec parameters for stream 0 (Video: h264, none): unspecified size\n' +
        "Consider increasing the value for the 'analyzeduration' (0) and 'probesize' (5000000) options",
      'permanent',
    ],
    [
      'no decoder',
      'Decoder (codec av1) not found for input stream #0:0\nError while opening decoder',
      'permanent',
    ],
    ['unsupported codec', '[matroska @ 0x55] Unsupported codec with id 0 for input stream 1', 'permanent'],
    ['nothing to encode', 'Output file #0 does not contain any stream', 'permanent'],
    [
      'map without a match',
      "Stream map '0:a' matches no streams.\nTo ignore this, add a trailing '?'",
      'permanent',
    ],
    [
      'encoder rejects the parameters',
      '[libx264 @ 0x558c9bb34fc0] width not divisible by 2 (321x181)\nError initializing output stream 0:0 -- ' +
        'Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate',
      'permanent',
    ],
    ['invalid argument', '[libx264 @ 0x55] Error setting profile high.\nInvalid argument', 'permanent'],
    ['bad filter', "[AVFilterGraph @ 0x55] No such filter: 'zscale'", 'permanent'],
    [
      'connection refused',
      '[tcp @ 0x5606fb189fc0] Connection to tcp://127.0.0.1:9 failed: Connection refused\n' +
        'http://127.0.0.1:9/x.mp4: Connection refused',
      'transient',
    ],
    [
      'server error',
      '[http @ 0x55d442f5f0c0] HTTP error 503 Service Unavailable\n' +
        'http://127.0.0.1:18765/x.mp4: Server returned 5XX Server Error reply',
      'transient',
    ],
    [
      'network failure mid-read beats the invalid data it causes',
      '[tls @ 0x55] Error in the pull function.\n[tls @ 0x55] Connection reset by peer\n' +
        'https://s3.example/v.mp4: Invalid data found when processing input',
      'transient',
    ],
    ['I/O error', "[hls @ 0x55] Opening '/out/720p/seg_00003.m4s' failed: I/O error", 'transient'],
    ['Input/output error', 'https://s3.example/v.mp4: Input/output error', 'transient'],
    ['disk full', '[mp4 @ 0x55] Error writing trailer: No space left on device', 'transient'],
    ['interrupted by SIGTERM (exit 255)', 'Exiting normally, received signal 15.', 'transient'],
    ['unknown non-zero exit', 'Conversion failed!', 'transient'],
    ['empty stderr', '', 'transient'],
  ];
  for (const [title, stderrTail, expected] of stderrTable) {
    it(`${title} → ${expected}`, () => {
      const error = new FfmpegError('x', { reason: 'exit', exitCode: 1, stderrTail });
      assert.equal(classifyFfmpegFailure(error), expected);
    });
  }
  const otherTable: Array<[string, FfmpegError]> = [
    [
      'killed by a signal (OOM killer)',
      new FfmpegError('x', { reason: 'exit', signal: 'SIGKILL', stderrTail: 'moov atom not found' }),
    ],
    ['aborted', new FfmpegError('x', { reason: 'aborted', signal: 'SIGKILL' })],
    ['timeout', new FfmpegError('x', { reason: 'timeout', signal: 'SIGKILL' })],
    ['spawn EAGAIN', new FfmpegError('x', { reason: 'spawn', spawnCode: 'EAGAIN' })],
  ];
  for (const [title, error] of otherTable) {
    it(`${title} → transient`, () => assert.equal(classifyFfmpegFailure(error), 'transient'));
  }
});

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

  it('a binary that does not exist rejects with reason spawn', async () => {
    const error = await runFfmpeg(path.join(dir, 'no-ffmpeg'), ['-version']).then(
      () => assert.fail('resolved'),
      (e: unknown) => e as FfmpegError,
    );
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.reason, 'spawn');
    assert.equal(error.spawnCode, 'ENOENT');
    assert.equal(classifyFfmpegFailure(error), 'transient');
  });

  it('an already aborted signal rejects without starting ffmpeg', async () => {
    const error = await runFfmpeg(ffmpeg, ['-version'], { signal: AbortSignal.abort() }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e as FfmpegError,
    );
    assert.equal(error.reason, 'aborted');
    assert.equal(error.exitCode, null);
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

describe('avcConfig', () => {
  /** An avcC box: size, type, the record's first 4 bytes, then 0xff (4-byte NAL lengths), no SPS, no PPS. */
  const box = (...head: number[]) =>
    Uint8Array.from([0, 0, 0, 11 + head.length, ...Buffer.from('avcC'), ...head, 0xff, 0xe0, 0]);
  const table: Array<[title: string, bytes: Uint8Array, expected: ReturnType<typeof avcConfig>]> = [
    ['High 3.1', box(1, 100, 0x00, 31), { profile: 'High', levelIdc: 31 }],
    ['Main 4.0', box(1, 77, 0x40, 40), { profile: 'Main', levelIdc: 40 }],
    ['Constrained Baseline 1.3', box(1, 66, 0xc0, 13), { profile: 'Constrained Baseline', levelIdc: 13 }],
    ['Baseline', box(1, 66, 0x80, 30), { profile: 'Baseline', levelIdc: 30 }],
    ['High 10 5.1', box(1, 110, 0x00, 51), { profile: 'High 10', levelIdc: 51 }],
    ['an unknown profile', box(1, 118, 0x00, 31), null],
    ['wrong configuration version', box(0, 100, 0x00, 31), null],
    ['cut short', Uint8Array.from([0, 0, 0, 40, ...Buffer.from('avcC'), 1, 100, 0, 31, 0xff]), null],
    ['no avcC', Uint8Array.from(Buffer.from('....ftypisom....moov')), null],
  ];
  for (const [title, bytes, expected] of table) {
    it(title, () => assert.deepEqual(avcConfig(bytes), expected));
  }
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
