import type { ProbeResult } from './probe-result.ts';

/** One entry of the rendition table: a rung is named after its short side ('720p' = 720 px). */
export interface RungSpec {
  name: string;
  shortSide: number;
  /** Peak bit rate the encoder may spend (x264 VBV maxrate), bits/s. */
  maxrateBps: number;
}

/**
 * The default ladder, smallest first. Caps from the product issue; a rung is kept when its short side is
 * not larger than the source's (no upscaling), so portrait and landscape sources get the same rungs.
 */
export const DEFAULT_LADDER: readonly RungSpec[] = [
  { name: '240p', shortSide: 240, maxrateBps: 400_000 },
  { name: '360p', shortSide: 360, maxrateBps: 800_000 },
  { name: '480p', shortSide: 480, maxrateBps: 1_500_000 },
  { name: '720p', shortSide: 720, maxrateBps: 3_000_000 },
  { name: '1080p', shortSide: 1080, maxrateBps: 6_000_000 },
  { name: '1440p', shortSide: 1440, maxrateBps: 10_000_000 },
  { name: '2160p', shortSide: 2160, maxrateBps: 20_000_000 },
];

/**
 * x264 CRF 23 (its default) under the maxrate cap. The cap bounds the peaks that matter for streaming;
 * below it, CRF keeps quality constant and spends few bits on easy scenes. 23 rather than a lower value
 * because `veryfast` already costs ≈ 11 % more bits than `medium` for the same quality (DESIGN, measured)
 * and every CRF step down costs ≈ 12–15 % more; the cap table, not the CRF, sets the worst case.
 */
export const DEFAULT_CRF = 23;
export const DEFAULT_MAX_FPS = 60;
/** The frame rate assumed when the probe has none (the ladder then forces it with an fps filter). */
export const FALLBACK_FPS = 30;

export interface Rung {
  /** '720p' — also the rung's directory and var_stream_map name. */
  name: string;
  width: number;
  height: number;
  /** Output frame rate (numeric, e.g. 29.97002997 for 30000/1001). */
  fps: number;
  /** The value for ffmpeg's fps filter ('60', '60000/1001') when the source rate must change, else null. */
  fpsFilter: string | null;
  maxrateBps: number;
  /** VBV buffer: 2 × maxrate. */
  bufsizeBps: number;
  crf: number;
  /** H.264 level (e.g. 3.1) passed to x264, so the CODECS string is known before encoding. */
  level: number;
}

export interface LadderOptions {
  crf?: number;
  maxFps?: number;
  /** Replace the rendition table (sorted by short side inside). */
  ladder?: readonly RungSpec[];
}

/**
 * Plans the HLS rungs for a probed source: every table rung whose short side fits the source's display
 * size (rotation already applied by the probe), sized with the source aspect ratio and rounded to even
 * numbers; a source smaller than the smallest rung gets one rung at its own size. Smallest first.
 */
export function planLadder(probe: ProbeResult, options: LadderOptions = {}): Rung[] {
  const video = probe.video;
  if (!video) throw new RangeError('planLadder: the source has no video stream');
  const { displayWidth, displayHeight } = video;
  if (!(displayWidth > 0 && displayHeight > 0)) {
    throw new RangeError(`planLadder: invalid display size ${displayWidth}x${displayHeight}`);
  }
  const crf = options.crf ?? DEFAULT_CRF;
  const table = [...(options.ladder ?? DEFAULT_LADDER)].sort((a, b) => a.shortSide - b.shortSide);
  if (table.length === 0) throw new RangeError('planLadder: the ladder table is empty');
  const { fps, filter } = planFrameRate(video.fps, options.maxFps ?? DEFAULT_MAX_FPS);

  const landscape = displayWidth >= displayHeight;
  const sourceShort = Math.min(displayWidth, displayHeight);
  const sourceLong = Math.max(displayWidth, displayHeight);
  const longCap = Math.max(2, floorEven(sourceLong));

  const kept = table.filter((spec) => spec.shortSide <= sourceShort);
  const sized =
    kept.length > 0
      ? kept.map((spec) => ({
          spec,
          short: spec.shortSide,
          long: Math.min(roundEven((spec.shortSide * sourceLong) / sourceShort), longCap),
        }))
      : // Smaller than every rung: one rung at the source's own size, named after its short side.
        [tinyRung(table[0]!, sourceShort, longCap)];

  return sized.map(({ spec, short, long }) => {
    const width = landscape ? long : short;
    const height = landscape ? short : long;
    const bufsizeBps = spec.maxrateBps * 2;
    return {
      name: spec.name,
      width,
      height,
      fps,
      fpsFilter: filter,
      maxrateBps: spec.maxrateBps,
      bufsizeBps,
      crf,
      level: h264Level(width, height, fps, spec.maxrateBps, bufsizeBps),
    };
  });
}

function tinyRung(smallest: RungSpec, sourceShort: number, longCap: number) {
  const short = Math.max(2, floorEven(sourceShort));
  return { spec: { ...smallest, name: `${short}p`, shortSide: short }, short, long: longCap };
}

/** Nearest even integer (x264 with 4:2:0 needs even sizes); halves round up. */
export function roundEven(value: number): number {
  return 2 * Math.round(value / 2);
}

export function floorEven(value: number): number {
  return 2 * Math.floor(value / 2);
}

/**
 * The output frame rate for a source rate. Rates up to `maxFps` are kept as they are (no filter: the
 * source timing passes through). Faster sources are decimated by a whole number when that keeps at
 * least 80 % of the cap, which keeps an even cadence (120 → 60, 119.88 → 59.94, 100 → 50); otherwise
 * they are capped at `maxFps` (e.g. 90 → 60, or a variable-rate phone clip averaging 60.02 → 60).
 * An unknown rate becomes FALLBACK_FPS, forced with the fps filter.
 */
export function planFrameRate(
  sourceFps: number | null,
  maxFps: number = DEFAULT_MAX_FPS,
): { fps: number; filter: string | null } {
  if (sourceFps === null || !(sourceFps > 0)) {
    const fps = Math.min(FALLBACK_FPS, maxFps);
    return { fps, filter: frameRateExpression(fps) };
  }
  if (sourceFps <= maxFps) return { fps: sourceFps, filter: null };
  const decimated = sourceFps / Math.ceil(sourceFps / maxFps);
  const fps = decimated >= 0.8 * maxFps ? decimated : maxFps;
  return { fps, filter: frameRateExpression(fps) };
}

/** A frame rate as ffmpeg reads it exactly: '60', '60000/1001' (NTSC family), else a decimal. */
export function frameRateExpression(fps: number): string {
  const whole = Math.round(fps);
  if (Math.abs(fps - whole) < 1e-6) return String(whole);
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs(fps * 1.001 - ntsc) < 1e-3) return `${ntsc * 1000}/1001`;
  return String(Number(fps.toFixed(6)));
}

/**
 * H.264 Annex A limits, per level: max macroblocks/s, max frame size (macroblocks), max bit rate and
 * CPB size (kbit/s and kbit for Baseline/Main; High allows 1.25×, like x264's cbp_factor 5/4).
 */
const LEVELS: ReadonlyArray<
  readonly [level: number, mbps: number, frameMbs: number, br: number, cpb: number]
> = [
  [1, 1485, 99, 64, 175],
  [1.1, 3000, 396, 192, 500],
  [1.2, 6000, 396, 384, 1000],
  [1.3, 11880, 396, 768, 2000],
  [2, 11880, 396, 2000, 2000],
  [2.1, 19800, 792, 4000, 4000],
  [2.2, 20250, 1620, 4000, 4000],
  [3, 40500, 1620, 10000, 10000],
  [3.1, 108000, 3600, 14000, 14000],
  [3.2, 216000, 5120, 20000, 20000],
  [4, 245760, 8192, 20000, 25000],
  [4.1, 245760, 8192, 50000, 62500],
  [4.2, 522240, 8704, 50000, 62500],
  [5, 589824, 22080, 135000, 135000],
  [5.1, 983040, 36864, 240000, 240000],
  [5.2, 2073600, 36864, 240000, 240000],
  [6, 4177920, 139264, 240000, 240000],
  [6.1, 8355840, 139264, 480000, 480000],
  [6.2, 16711680, 139264, 800000, 800000],
];

/**
 * The lowest H.264 level (High profile) that allows this frame size, macroblock rate and VBV — the
 * checks x264 makes itself (frame size, each dimension ≤ √(8 × MaxFS), MB rate, VBV rate and buffer).
 * The DPB limit is left to x264, which lowers the reference count to fit a given level.
 */
export function h264Level(
  width: number,
  height: number,
  fps: number,
  maxrateBps: number,
  bufsizeBps: number,
) {
  const mbWidth = Math.ceil(width / 16);
  const mbHeight = Math.ceil(height / 16);
  const frameMbs = mbWidth * mbHeight;
  const mbPerSecond = frameMbs * fps;
  for (const [level, mbps, maxFrameMbs, br, cpb] of LEVELS) {
    if (frameMbs > maxFrameMbs) continue;
    if (mbWidth * mbWidth > 8 * maxFrameMbs || mbHeight * mbHeight > 8 * maxFrameMbs) continue;
    if (mbPerSecond > mbps) continue;
    if (maxrateBps > br * 1250 || bufsizeBps > cpb * 1250) continue;
    return level;
  }
  throw new RangeError(`h264Level: ${width}x${height} at ${fps} fps exceeds H.264 level 6.2`);
}
