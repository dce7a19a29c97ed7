import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  floorEven,
  frameRateExpression,
  h264Level,
  type LadderOptions,
  planFrameRate,
  planLadder,
  roundEven,
} from './ladder.ts';
import type { ProbeResult } from './probe-result.ts';

interface Source {
  width: number;
  height: number;
  rotation?: number;
  fps?: number | null;
}

/** A probe as probe.ts returns it; display size = coded size turned by the rotation. */
function probe({ width, height, rotation = 0, fps = 30 }: Source): ProbeResult {
  const swapped = rotation === 90 || rotation === 270;
  return {
    container: 'mov,mp4,m4a,3gp,3g2,mj2',
    durationSeconds: 10,
    bitrate: 5_000_000,
    video: {
      index: 0,
      codec: 'h264',
      width,
      height,
      rotation,
      displayWidth: swapped ? height : width,
      displayHeight: swapped ? width : height,
      fps,
      pixelFormat: 'yuv420p',
      bitDepth: 8,
      colorTransfer: null,
      profile: 'High',
    },
    audio: null,
    raw: {},
  };
}

/** [name, width, height, maxrate, level] */
type Expected = [string, number, number, number, number];

const LANDSCAPE_1080: Expected[] = [
  ['240p', 426, 240, 400_000, 2.1],
  ['360p', 640, 360, 800_000, 3],
  ['480p', 854, 480, 1_500_000, 3.1],
  ['720p', 1280, 720, 3_000_000, 3.1],
  ['1080p', 1920, 1080, 6_000_000, 4],
];
const PORTRAIT_1080: Expected[] = [
  ['240p', 240, 426, 400_000, 2.1],
  ['360p', 360, 640, 800_000, 3],
  ['480p', 480, 854, 1_500_000, 3.1],
  ['720p', 720, 1280, 3_000_000, 3.1],
  ['1080p', 1080, 1920, 6_000_000, 4],
];

const cases: Array<{
  title: string;
  source: Source;
  options?: LadderOptions;
  fps: number;
  rungs: Expected[];
}> = [
  {
    title: 'landscape 1920×1080 30 fps',
    source: { width: 1920, height: 1080 },
    fps: 30,
    rungs: LANDSCAPE_1080,
  },
  { title: 'portrait 1080×1920', source: { width: 1080, height: 1920 }, fps: 30, rungs: PORTRAIT_1080 },
  {
    title: 'coded 1920×1080 rotated 90 → displayed 1080×1920',
    source: { width: 1920, height: 1080, rotation: 90 },
    fps: 30,
    rungs: PORTRAIT_1080,
  },
  {
    title: 'coded 1920×1080 rotated 180 stays landscape',
    source: { width: 1920, height: 1080, rotation: 180 },
    fps: 30,
    rungs: LANDSCAPE_1080,
  },
  {
    title: 'odd 1279×719: no 720p (719 < 720), widths from the real aspect, rounded to even',
    source: { width: 1279, height: 719 },
    fps: 30,
    rungs: [
      ['240p', 426, 240, 400_000, 2.1],
      ['360p', 640, 360, 800_000, 3],
      ['480p', 854, 480, 1_500_000, 3.1],
    ],
  },
  {
    title: 'odd 1279×720: the 720p width never exceeds the source (1278, not 1280)',
    source: { width: 1279, height: 720 },
    fps: 30,
    rungs: [
      ['240p', 426, 240, 400_000, 2.1],
      ['360p', 640, 360, 800_000, 3],
      ['480p', 852, 480, 1_500_000, 3.1],
      ['720p', 1278, 720, 3_000_000, 3.1],
    ],
  },
  {
    title: 'tiny 160×90: one rung at its own size',
    source: { width: 160, height: 90 },
    fps: 30,
    rungs: [['90p', 160, 90, 400_000, 1.2]],
  },
  {
    title: 'tiny odd 161×91: one rung, floored to even',
    source: { width: 161, height: 91 },
    fps: 30,
    rungs: [['90p', 160, 90, 400_000, 1.2]],
  },
  {
    title: '4K 3840×2160 60 fps: all seven rungs',
    source: { width: 3840, height: 2160, fps: 60 },
    fps: 60,
    rungs: [
      ['240p', 426, 240, 400_000, 3],
      ['360p', 640, 360, 800_000, 3.1],
      ['480p', 854, 480, 1_500_000, 3.1],
      ['720p', 1280, 720, 3_000_000, 3.2],
      ['1080p', 1920, 1080, 6_000_000, 4.2],
      ['1440p', 2560, 1440, 10_000_000, 5.1],
      ['2160p', 3840, 2160, 20_000_000, 5.2],
    ],
  },
  {
    title: '120 fps is capped to 60',
    source: { width: 1920, height: 1080, fps: 120 },
    fps: 60,
    rungs: [
      ['240p', 426, 240, 400_000, 3],
      ['360p', 640, 360, 800_000, 3.1],
      ['480p', 854, 480, 1_500_000, 3.1],
      ['720p', 1280, 720, 3_000_000, 3.2],
      ['1080p', 1920, 1080, 6_000_000, 4.2],
    ],
  },
  {
    title: 'cinema 1920×800 24 fps keeps 2.4:1',
    source: { width: 1920, height: 800, fps: 24 },
    fps: 24,
    rungs: [
      ['240p', 576, 240, 400_000, 2.1],
      ['360p', 864, 360, 800_000, 3],
      ['480p', 1152, 480, 1_500_000, 3.1],
      ['720p', 1728, 720, 3_000_000, 3.2],
    ],
  },
  {
    title: 'square 1080×1080',
    source: { width: 1080, height: 1080 },
    fps: 30,
    rungs: [
      ['240p', 240, 240, 400_000, 1.3],
      ['360p', 360, 360, 800_000, 2.1],
      ['480p', 480, 480, 1_500_000, 3],
      ['720p', 720, 720, 3_000_000, 3.1],
      ['1080p', 1080, 1080, 6_000_000, 3.2],
    ],
  },
  {
    title: 'a custom ladder table (as the integration test uses for a 320×180 clip)',
    source: { width: 320, height: 180, fps: 25 },
    options: {
      ladder: [
        { name: '180p', shortSide: 180, maxrateBps: 400_000 },
        { name: '120p', shortSide: 120, maxrateBps: 300_000 },
      ],
    },
    fps: 25,
    rungs: [
      ['120p', 214, 120, 300_000, 1.2],
      ['180p', 320, 180, 400_000, 1.2], // 240 MBs × 25 fps = 6000 MB/s: exactly level 1.2's limit
    ],
  },
];

describe('planLadder', () => {
  for (const { title, source, options, fps, rungs } of cases) {
    it(title, () => {
      const planned = planLadder(probe(source), options);
      assert.deepEqual(
        planned.map((r) => [r.name, r.width, r.height, r.maxrateBps, r.level]),
        rungs,
      );
      for (const rung of planned) {
        assert.equal(rung.fps, fps);
        assert.equal(rung.bufsizeBps, 2 * rung.maxrateBps);
        assert.equal(rung.crf, 23);
      }
    });
  }

  it('returns the complete rung shape', () => {
    assert.deepEqual(planLadder(probe({ width: 160, height: 90 })), [
      {
        name: '90p',
        width: 160,
        height: 90,
        fps: 30,
        fpsFilter: null,
        maxrateBps: 400_000,
        bufsizeBps: 800_000,
        crf: 23,
        level: 1.2,
      },
    ]);
  });

  it('keeps an NTSC rate as its exact numeric value, without an fps filter', () => {
    const ntsc = 30000 / 1001;
    const rungs = planLadder(probe({ width: 1280, height: 720, fps: ntsc }));
    assert.deepEqual(
      rungs.map((r) => [r.name, r.fps, r.fpsFilter]),
      [
        ['240p', ntsc, null],
        ['360p', ntsc, null],
        ['480p', ntsc, null],
        ['720p', ntsc, null],
      ],
    );
  });

  it('caps 120 fps with an fps filter of 60 on every rung', () => {
    const rungs = planLadder(probe({ width: 1280, height: 720, fps: 120 }));
    assert.deepEqual(
      rungs.map((r) => r.fpsFilter),
      ['60', '60', '60', '60'],
    );
  });

  it('takes crf and maxFps options', () => {
    const rungs = planLadder(probe({ width: 854, height: 480, fps: 60 }), { crf: 20, maxFps: 30 });
    assert.deepEqual(
      rungs.map((r) => [r.name, r.crf, r.fps, r.fpsFilter, r.level]),
      [
        ['240p', 20, 30, '30', 2.1],
        ['360p', 20, 30, '30', 3],
        ['480p', 20, 30, '30', 3.1],
      ],
    );
  });

  it('forces 30 fps when the probe has no frame rate', () => {
    const [rung] = planLadder(probe({ width: 426, height: 240, fps: null }));
    assert.deepEqual([rung!.fps, rung!.fpsFilter], [30, '30']);
  });

  it('rejects a source without video, and an empty table', () => {
    assert.throws(() => planLadder({ ...probe({ width: 1, height: 1 }), video: null }), RangeError);
    assert.throws(() => planLadder(probe({ width: 1920, height: 1080 }), { ladder: [] }), RangeError);
  });
});

describe('planFrameRate', () => {
  const table: Array<[source: number | null, fps: number, filter: string | null]> = [
    [null, 30, '30'],
    [24, 24, null],
    [25, 25, null],
    [30000 / 1001, 30000 / 1001, null],
    [60, 60, null],
    [60.02, 60, '60'], // variable-rate phone clip averaging just above 60: capped, not halved
    [90, 60, '60'], // 45 would lose a quarter of the cap
    [100, 50, '50'],
    [120000 / 1001, 60000 / 1001, '60000/1001'],
    [120, 60, '60'],
    [144, 48, '48'],
    [240, 60, '60'],
  ];
  for (const [source, fps, filter] of table) {
    it(`${source} fps → ${fps} (${filter ?? 'no filter'})`, () => {
      assert.deepEqual(planFrameRate(source), { fps, filter });
    });
  }
});

describe('frameRateExpression', () => {
  const table: Array<[number, string]> = [
    [30, '30'],
    [30000 / 1001, '30000/1001'],
    [24000 / 1001, '24000/1001'],
    [60000 / 1001, '60000/1001'],
    [30.5, '30.5'],
    [12.345678901, '12.345679'],
  ];
  for (const [fps, expected] of table)
    it(`${fps} → ${expected}`, () => assert.equal(frameRateExpression(fps), expected));
});

describe('even rounding', () => {
  it('roundEven goes to the nearest even number', () => {
    assert.deepEqual([426.67, 853.33, 607.5, 1, 3, 719].map(roundEven), [426, 854, 608, 2, 4, 720]);
  });
  it('floorEven goes down', () => {
    assert.deepEqual([1279, 91, 2, 1920].map(floorEven), [1278, 90, 2, 1920]);
  });
});

describe('h264Level', () => {
  // Cross-checked: x264 (ffmpeg 5.1 here) picks the same levels on its own for these sizes and VBV settings.
  const table: Array<[w: number, h: number, fps: number, maxrate: number, level: number]> = [
    [160, 90, 30, 400_000, 1.2],
    [426, 240, 30, 400_000, 2.1],
    [426, 240, 60, 400_000, 3],
    [640, 360, 30, 800_000, 3],
    [854, 480, 30, 1_500_000, 3.1],
    [1280, 720, 30, 3_000_000, 3.1],
    [1280, 720, 60, 3_000_000, 3.2],
    [1920, 1080, 30, 6_000_000, 4],
    [1920, 1080, 60, 6_000_000, 4.2],
    [1728, 720, 24, 3_000_000, 3.2],
    [3840, 2160, 30, 20_000_000, 5.1],
    [426, 240, 30, 6_000_000, 3], // the VBV rate alone pushes the level up
    [3840, 240, 30, 400_000, 4], // a very wide frame: width² ≤ 8 × MaxFS
  ];
  for (const [w, h, fps, maxrate, level] of table) {
    it(`${w}×${h}@${fps} ${maxrate / 1000}k → ${level}`, () => {
      assert.equal(h264Level(w, h, fps, maxrate, 2 * maxrate), level);
    });
  }
  it('throws beyond level 6.2', () => {
    assert.throws(() => h264Level(16384, 16384, 30, 1_000_000, 2_000_000), RangeError);
  });
});
