import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { mediaTools, runFfmpeg } from '../../test/support/media.ts';
import { probeMedia } from './probe.ts';
import type { ProbeResult } from './probe-result.ts';
import { frameStats, lumaStats, makePoster, makeStoryboard, posterSizes } from './thumbnails.ts';
import { BLACK_MEAN_LUMA, planStoryboard, storyboardVtt } from './thumbnails-plan.ts';

describe('posterSizes', () => {
  const table: Array<[source: [number, number], widths: number[], expected: Array<[number, number]>]> = [
    [
      [1920, 1080],
      [1280, 640],
      [
        [1280, 720],
        [640, 360],
      ],
    ],
    [[320, 180], [1280, 640], [[320, 180]]],
    [
      [800, 600],
      [1280, 640],
      [
        [800, 600],
        [640, 480],
      ],
    ],
    [
      [1080, 1920],
      [1280, 640],
      [
        [1080, 1920],
        [640, 1138],
      ],
    ],
    [[321, 241], [1280], [[320, 240]]],
    [
      [1440, 1080],
      [640, 1280, 640],
      [
        [640, 480],
        [1280, 960],
      ],
    ],
    [[1920, 1080], [], []],
  ];
  for (const [[w, h], widths, expected] of table) {
    it(`${w}×${h} at [${widths}] → ${expected.map(([ew, eh]) => `${ew}×${eh}`).join(', ') || 'none'}`, () => {
      const sizes = expected.map(([width, height]) => ({ width, height }));
      assert.deepEqual(posterSizes(w, h, widths), sizes);
    });
  }
});

describe('lumaStats', () => {
  it('mean and population standard deviation', () => {
    assert.deepEqual(lumaStats(Uint8Array.from([0, 255])), { meanLuma: 127.5, stdDev: 127.5 });
    assert.deepEqual(lumaStats(Uint8Array.from([16, 16, 16, 16])), { meanLuma: 16, stdDev: 0 });
    assert.deepEqual(lumaStats(Uint8Array.from([2, 4, 4, 4, 5, 5, 7, 9])), { meanLuma: 5, stdDev: 2 });
    assert.deepEqual(lumaStats(new Uint8Array(0)), { meanLuma: 0, stdDev: 0 });
  });
});

describe('poster and storyboard (real ffmpeg)', () => {
  const { ffmpeg, ffprobe } = mediaTools();
  let dir: string;
  /** 320×180, 4 s: 1.5 s of black, then 2.5 s of testsrc2. */
  let clip: string;
  let probe: ProbeResult;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reel-thumbnails-'));
    clip = path.join(dir, 'black-then-picture.mp4');
    await runFfmpeg([
      ...['-hide_banner', '-v', 'error', '-y'],
      ...['-f', 'lavfi', '-i', 'color=c=black:s=320x180:r=25:d=1.5'],
      ...['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=25:d=2.5'],
      ...['-filter_complex', '[0:v][1:v]concat=n=2:v=1:a=0,format=yuv420p[v]', '-map', '[v]'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', clip],
    ]);
    probe = await probeMedia(ffprobe, clip);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('frameStats measures a flat grey and a black image', async () => {
    const grey = path.join(dir, 'grey.png');
    const black = path.join(dir, 'black.png');
    await runFfmpeg([
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=c=0x808080:s=320x180:d=0.1',
      '-frames:v',
      '1',
      grey,
    ]);
    await runFfmpeg([
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=c=black:s=320x180:d=0.1',
      '-frames:v',
      '1',
      black,
    ]);
    const greyStats = await frameStats(ffmpeg, grey);
    assert.ok(Math.abs(greyStats.meanLuma - 128) <= 1, `grey mean ${greyStats.meanLuma}`);
    assert.ok(greyStats.stdDev < 0.5, `grey stdDev ${greyStats.stdDev}`);
    const blackStats = await frameStats(ffmpeg, black);
    assert.ok(blackStats.meanLuma < 1, `black mean ${blackStats.meanLuma}`);
    assert.ok(blackStats.stdDev < 0.5);
  });

  it('the poster skips the black opening; widths are clamped to the source and deduplicated', async () => {
    const workDir = path.join(dir, 'poster');
    const result = await makePoster({ ffmpegPath: ffmpeg, input: clip, probe, workDir });
    assert.deepEqual(result.files, [{ width: 320, height: 180, path: path.join(workDir, 'poster_320.jpg') }]);
    // Candidates at 10, 25, 50 and 75 % of 4.04 s: the first two (0.4 s, 1 s) are black.
    assert.ok(result.chosen.time > 1.5, `chosen at ${result.chosen.time} s`);
    const stats = await frameStats(ffmpeg, result.files[0]!.path);
    assert.ok(stats.meanLuma > BLACK_MEAN_LUMA, `poster mean luma ${stats.meanLuma}`);
    assert.ok(stats.stdDev > 10, `poster stdDev ${stats.stdDev}`);
    assert.deepEqual(await imageSize(result.files[0]!.path), [320, 180]);
    assert.deepEqual(await readdir(workDir), ['poster_320.jpg'], 'candidates are removed');
  });

  it('writes every requested size that fits', async () => {
    const workDir = path.join(dir, 'poster-sizes');
    const result = await makePoster({ ffmpegPath: ffmpeg, input: clip, probe, workDir, widths: [1280, 160] });
    assert.deepEqual(
      result.files.map((f) => [f.width, f.height, path.basename(f.path)]),
      [
        [320, 180, 'poster_320.jpg'],
        [160, 90, 'poster_160.jpg'],
      ],
    );
    for (const file of result.files) assert.deepEqual(await imageSize(file.path), [file.width, file.height]);
    const small = await frameStats(ffmpeg, result.files[1]!.path);
    assert.ok(small.meanLuma > BLACK_MEAN_LUMA, 'the smaller size shows the same (non-black) frame');
    assert.deepEqual((await readdir(workDir)).sort(), ['poster_160.jpg', 'poster_320.jpg']);
  });

  it('a video that is black throughout still gets a poster', async () => {
    const black = path.join(dir, 'black.mp4');
    await runFfmpeg([
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=black:s=320x180:r=25:d=2'],
      ...['-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', black],
    ]);
    const blackProbe = await probeMedia(ffprobe, black);
    const workDir = path.join(dir, 'poster-black');
    const result = await makePoster({ ffmpegPath: ffmpeg, input: black, probe: blackProbe, workDir });
    assert.equal(result.files.length, 1);
    assert.ok(result.chosen.meanLuma < BLACK_MEAN_LUMA);
    assert.deepEqual(await imageSize(result.files[0]!.path), [320, 180]);
  });

  it('a duration longer than the stream falls back to the first frame', async () => {
    const workDir = path.join(dir, 'poster-short');
    // The probe claims 400 s: every candidate time (40 s and later) is past the last frame.
    const result = await makePoster({
      ffmpegPath: ffmpeg,
      input: clip,
      probe: { ...probe, durationSeconds: 400 },
      workDir,
    });
    assert.equal(result.chosen.time, 0);
    assert.deepEqual(await imageSize(result.files[0]!.path), [320, 180]);
  });

  it('an aborted signal stops the poster and leaves no candidates', async () => {
    const workDir = path.join(dir, 'poster-aborted');
    await assert.rejects(
      makePoster({ ffmpegPath: ffmpeg, input: clip, probe, workDir, signal: AbortSignal.abort() }),
      { name: 'FfmpegError', reason: 'aborted' },
    );
    assert.deepEqual(await readdir(workDir), []);
  });

  it('the storyboard: one tile per second in one sprite, and its WebVTT', async () => {
    const workDir = path.join(dir, 'storyboard');
    const spriteUrl = 'storyboard.jpg';
    const result = await makeStoryboard({
      ffmpegPath: ffmpeg,
      input: clip,
      probe,
      durationSeconds: probe.durationSeconds,
      workDir,
      spriteUrl,
    });
    const { plan } = result;
    assert.deepEqual(plan, planStoryboard(probe.durationSeconds, { displayWidth: 320, displayHeight: 180 }));
    // 4.04 s (the mp4 counts the last frame's duration): a tile a second, 5 tiles in one row.
    assert.deepEqual(
      [plan.intervalSeconds, plan.tiles, plan.columns, plan.rows, plan.tileWidth, plan.tileHeight],
      [1, Math.ceil(probe.durationSeconds), plan.tiles, 1, 160, 90],
    );
    assert.equal(result.spritePath, path.join(workDir, 'storyboard.jpg'));
    assert.equal(result.vttPath, path.join(workDir, 'storyboard.vtt'));
    assert.deepEqual(await imageSize(result.spritePath), [
      plan.columns * plan.tileWidth,
      plan.rows * plan.tileHeight,
    ]);

    const vtt = await readFile(result.vttPath, 'utf8');
    assert.equal(vtt, storyboardVtt(plan, spriteUrl));
    const lines = vtt.split('\n');
    const cues = lines.filter((line) => line.includes(' --> '));
    const fragments = lines.filter((line) => line.startsWith(`${spriteUrl}#xywh=`));
    assert.equal(cues.length, plan.tiles);
    assert.deepEqual(
      fragments,
      Array.from({ length: plan.tiles }, (_, i) => `${spriteUrl}#xywh=${i * 160},0,160,90`),
    );
    assert.equal(cues[0], '00:00:00.000 --> 00:00:01.000');
    assert.equal(cues[3], '00:00:03.000 --> 00:00:04.000');

    // The tile for 0 s is from the black opening, the one for 3 s from the picture.
    const tileStats = async (index: number) => {
      const tile = path.join(dir, `tile-${index}.png`);
      const crop = `crop=${plan.tileWidth}:${plan.tileHeight}:${index * plan.tileWidth}:0`;
      await runFfmpeg(['-v', 'error', '-y', '-i', result.spritePath, '-vf', crop, tile]);
      return frameStats(ffmpeg, tile);
    };
    assert.ok((await tileStats(0)).meanLuma < BLACK_MEAN_LUMA);
    assert.ok((await tileStats(3)).meanLuma > BLACK_MEAN_LUMA);
  });
});

async function imageSize(file: string): Promise<[number, number]> {
  const { ffprobe } = mediaTools();
  const { stdout } = await promisify(execFile)(ffprobe, [
    ...['-v', 'error', '-select_streams', 'v:0'],
    ...['-show_entries', 'stream=width,height', '-of', 'csv=p=0', file],
  ]);
  const [width, height] = stdout.trim().split(',').map(Number);
  return [width!, height!];
}
