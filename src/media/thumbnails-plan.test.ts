import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { makeClip, mediaTools, runFfmpeg } from '../../test/support/media.ts';
import type { ProbeResult } from './probe-result.ts';
import {
  buildPosterCandidateArgs,
  buildStoryboardArgs,
  choosePoster,
  type PosterCandidate,
  planPosterCandidates,
  planStoryboard,
  storyboardVtt,
  vttTimestamp,
} from './thumbnails-plan.ts';

function probe(colorTransfer: string | null = null, index = 0): ProbeResult {
  return {
    container: 'mov,mp4,m4a,3gp,3g2,mj2',
    durationSeconds: 2,
    bitrate: null,
    video: {
      index,
      codec: 'h264',
      width: 320,
      height: 180,
      rotation: 0,
      displayWidth: 320,
      displayHeight: 180,
      fps: 25,
      pixelFormat: 'yuv420p',
      bitDepth: colorTransfer ? 10 : 8,
      colorTransfer,
      profile: 'High',
    },
    audio: null,
    raw: {},
  };
}

describe('poster candidates', () => {
  it('at 10 %, 25 %, 50 % and 75 % of the duration, to the millisecond', () => {
    assert.deepEqual(planPosterCandidates(120, '/out'), [
      { time: 12, path: '/out/poster_0.jpg' },
      { time: 30, path: '/out/poster_1.jpg' },
      { time: 60, path: '/out/poster_2.jpg' },
      { time: 90, path: '/out/poster_3.jpg' },
    ]);
    assert.deepEqual(
      planPosterCandidates(10.5, '/out').map((c) => c.time),
      [1.05, 2.625, 5.25, 7.875],
    );
    assert.deepEqual(
      planPosterCandidates(1 / 3, '/out').map((c) => c.time),
      [0.033, 0.083, 0.167, 0.25],
    );
  });

  it('just the first frame when the duration is unknown', () => {
    assert.deepEqual(planPosterCandidates(0, 'o'), [{ time: 0, path: 'o/poster_0.jpg' }]);
    assert.deepEqual(planPosterCandidates(Number.NaN, 'o'), [{ time: 0, path: 'o/poster_0.jpg' }]);
  });

  it('one ffmpeg run, one fast-seeked input per candidate', () => {
    const candidates = planPosterCandidates(20, '/out').slice(0, 2);
    assert.deepEqual(
      buildPosterCandidateArgs({
        input: '/in.mp4',
        probe: probe(null, 1),
        candidates,
        width: 1280,
        height: 720,
      }),
      [
        ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'],
        ...['-ss', '2', '-i', '/in.mp4', '-ss', '5', '-i', '/in.mp4'],
        ...['-map', '0:1', '-frames:v', '1', '-filter:v', 'scale=w=1280:h=720', '-q:v', '2', '-update', '1'],
        '/out/poster_0.jpg',
        ...['-map', '1:1', '-frames:v', '1', '-filter:v', 'scale=w=1280:h=720', '-q:v', '2', '-update', '1'],
        '/out/poster_1.jpg',
      ],
    );
  });

  it('tone-maps HDR sources', () => {
    const args = buildPosterCandidateArgs({
      input: 'in',
      probe: probe('smpte2084'),
      candidates: [{ time: 1, path: 'p.jpg' }],
      width: 640,
      height: 360,
    });
    assert.match(
      args[args.indexOf('-filter:v') + 1]!,
      /^zscale=tin=smpte2084:.*,format=yuv420p,scale=w=640:h=360$/,
    );
  });
});

describe('choosePoster', () => {
  const c = (time: number, meanLuma: number, stdDev: number): PosterCandidate => ({ time, meanLuma, stdDev });
  const table: Array<[title: string, candidates: PosterCandidate[], chosen: PosterCandidate | undefined]> = [
    ['the most detailed of normal frames', [c(1, 100, 30), c(2, 90, 55), c(3, 120, 40)], c(2, 90, 55)],
    ['rejects a black frame even when noisy', [c(1, 12, 80), c(2, 100, 20)], c(2, 100, 20)],
    ['rejects a blank (flat) frame', [c(1, 200, 4), c(2, 60, 12)], c(2, 60, 12)],
    ['the thresholds themselves are accepted', [c(1, 24, 10)], c(1, 24, 10)],
    ['earliest wins a tie', [c(1, 100, 30), c(2, 100, 30)], c(1, 100, 30)],
    ['all black or blank: the most detailed anyway', [c(1, 16, 1), c(2, 5, 9), c(3, 250, 2)], c(2, 5, 9)],
    ['nothing to choose from', [], undefined],
  ];
  for (const [title, candidates, chosen] of table) {
    it(title, () => assert.deepEqual(choosePoster(candidates), chosen));
  }
  it('returns the caller’s own object (extra fields kept)', () => {
    const frames = [
      { ...c(1, 100, 30), path: 'a.jpg' },
      { ...c(2, 100, 40), path: 'b.jpg' },
    ];
    assert.equal(choosePoster(frames), frames[1]);
  });
});

describe('planStoryboard', () => {
  // [duration, interval, tiles, columns, rows]
  const table: Array<[number, number, number, number, number]> = [
    [0, 1, 1, 1, 1],
    [2, 1, 2, 2, 1],
    [2.5, 1, 3, 3, 1],
    [10, 1, 10, 10, 1],
    [100, 1, 100, 10, 10],
    [100.5, 2, 51, 10, 6],
    [150, 2, 75, 10, 8],
    [600, 6, 100, 10, 10],
    [601, 10, 61, 10, 7],
    [3600, 60, 60, 10, 6],
    [7200, 90, 80, 10, 8],
    [36_000, 600, 60, 10, 6],
    [400_000, 7200, 56, 10, 6],
  ];
  for (const [duration, interval, tiles, columns, rows] of table) {
    it(`${duration} s → a tile every ${interval} s, ${tiles} tiles in ${columns}×${rows}`, () => {
      assert.deepEqual(planStoryboard(duration), {
        durationSeconds: duration,
        intervalSeconds: interval,
        tiles,
        columns,
        rows,
        tileWidth: 160,
        tileHeight: 90,
      });
    });
  }

  const sizes: Array<[w: number, h: number, tileWidth: number, tileHeight: number]> = [
    [1920, 1080, 160, 90],
    [1080, 1920, 90, 160],
    [640, 480, 160, 120],
    [1279, 719, 160, 90],
    [1920, 800, 160, 66],
    [1000, 1000, 160, 160],
  ];
  for (const [w, h, tileWidth, tileHeight] of sizes) {
    it(`tiles keep a ${w}×${h} source's shape: ${tileWidth}×${tileHeight}`, () => {
      const plan = planStoryboard(30, { displayWidth: w, displayHeight: h });
      assert.deepEqual([plan.tileWidth, plan.tileHeight], [tileWidth, tileHeight]);
    });
  }
});

describe('storyboardVtt', () => {
  it('one cue per tile, the last ending with the video', () => {
    assert.equal(
      storyboardVtt(planStoryboard(2.5), 'sprite.jpg'),
      [
        'WEBVTT',
        '',
        '00:00:00.000 --> 00:00:01.000',
        'sprite.jpg#xywh=0,0,160,90',
        '',
        '00:00:01.000 --> 00:00:02.000',
        'sprite.jpg#xywh=160,0,160,90',
        '',
        '00:00:02.000 --> 00:00:02.500',
        'sprite.jpg#xywh=320,0,160,90',
        '',
      ].join('\n'),
    );
  });

  it('tiles run row by row', () => {
    const lines = storyboardVtt(planStoryboard(25), '/v/1/storyboard.jpg').split('\n');
    // Cue i starts on line 2 + 3i: timestamp line, then the fragment line.
    assert.deepEqual(lines.slice(2 + 3 * 11, 4 + 3 * 11), [
      '00:00:11.000 --> 00:00:12.000',
      '/v/1/storyboard.jpg#xywh=160,90,160,90',
    ]);
    assert.deepEqual(lines.slice(2 + 3 * 24, 4 + 3 * 24), [
      '00:00:24.000 --> 00:00:25.000',
      '/v/1/storyboard.jpg#xywh=640,180,160,90',
    ]);
    assert.equal(lines.length, 2 + 3 * 25);
  });

  it('hours in long videos', () => {
    const lines = storyboardVtt(planStoryboard(3725.5), 's.jpg').split('\n');
    assert.deepEqual(lines.slice(2 + 3 * 62, 4 + 3 * 62), [
      '01:02:00.000 --> 01:02:05.500',
      's.jpg#xywh=320,540,160,90',
    ]);
  });
});

describe('vttTimestamp', () => {
  const table: Array<[number, string]> = [
    [0, '00:00:00.000'],
    [1.5, '00:00:01.500'],
    [59.9996, '00:01:00.000'],
    [61.25, '00:01:01.250'],
    [3723.4567, '01:02:03.457'],
    [360_000, '100:00:00.000'],
    [-1, '00:00:00.000'],
  ];
  for (const [seconds, text] of table)
    it(`${seconds} → ${text}`, () => assert.equal(vttTimestamp(seconds), text));
});

describe('buildStoryboardArgs', () => {
  it('samples, scales and tiles into one image', () => {
    assert.deepEqual(
      buildStoryboardArgs({
        input: '/in.mp4',
        probe: probe(),
        plan: planStoryboard(150),
        output: '/out/storyboard.jpg',
      }),
      [
        ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', '/in.mp4', '-map', '0:0'],
        ...['-filter:v', 'fps=1/2:round=up,scale=w=160:h=90,tile=10x8'],
        ...['-frames:v', '1', '-q:v', '4', '-update', '1', '/out/storyboard.jpg'],
      ],
    );
  });
});

describe('ffmpeg runs the poster and storyboard arguments (2-s 320×180 clip)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reel-thumbnails-plan-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function imageSize(file: string): Promise<[number, number]> {
    const { stdout } = await promisify(execFile)(mediaTools().ffprobe, [
      ...['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'json', file],
    ]);
    const [stream] = JSON.parse(stdout).streams as Array<{ width: number; height: number }>;
    return [stream!.width, stream!.height];
  }

  it('writes every poster candidate and a sprite of columns × rows tiles', async () => {
    const input = await makeClip(dir, { seconds: 2, width: 320, height: 180, audio: false });
    const candidates = planPosterCandidates(2, dir);
    await runFfmpeg(buildPosterCandidateArgs({ input, probe: probe(), candidates, width: 320, height: 180 }));
    for (const candidate of candidates) assert.deepEqual(await imageSize(candidate.path), [320, 180]);

    const plan = planStoryboard(2, { displayWidth: 320, displayHeight: 180 });
    const output = path.join(dir, 'storyboard.jpg');
    await runFfmpeg(buildStoryboardArgs({ input, probe: probe(), plan, output }));
    assert.deepEqual(await imageSize(output), [2 * 160, 90]);
  });
});
