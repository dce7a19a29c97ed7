import path from 'node:path';
import { sdrFilters } from './encode-args.ts';
import type { ProbeResult } from './probe-result.ts';

/*
 * Pure planning for the poster and the storyboard (sprite + WebVTT). A runner spawns ffmpeg with the
 * argument arrays; measuring candidate frames (mean luma, standard deviation) happens elsewhere.
 */

// ---------- poster ----------

/** Where in the video poster candidates are taken, as fractions of the duration. */
export const POSTER_FRACTIONS: readonly number[] = [0.1, 0.25, 0.5, 0.75];

export interface PosterCandidatePlan {
  /** Seconds from the start, to the millisecond. */
  time: number;
  /** Output JPEG path. */
  path: string;
}

/** Candidate frames at 10 %, 25 %, 50 % and 75 % of the duration (just the first frame when unknown). */
export function planPosterCandidates(
  durationSeconds: number,
  outputDir: string,
  fractions: readonly number[] = POSTER_FRACTIONS,
): PosterCandidatePlan[] {
  const times = durationSeconds > 0 ? fractions.map((f) => roundMs(durationSeconds * f)) : [0];
  return times.map((time, i) => ({ time, path: path.join(outputDir, `poster_${i}.jpg`) }));
}

export interface PosterArgsInput {
  input: string;
  /** The source's probe: the video stream index and whether it needs tone mapping. */
  probe: ProbeResult;
  candidates: readonly PosterCandidatePlan[];
  /** Output size, e.g. the MP4 rung's. */
  width: number;
  height: number;
  hdrToneMap?: boolean;
}

/**
 * One ffmpeg run writing every candidate: the input is opened once per candidate with a fast input
 * seek (`-ss` before `-i`), so only the frames around each time are decoded.
 */
export function buildPosterCandidateArgs(params: PosterArgsInput): string[] {
  const { input, probe, candidates, width, height } = params;
  const video = probe.video;
  if (!video) throw new RangeError('buildPosterCandidateArgs: the source has no video stream');
  if (candidates.length === 0) throw new RangeError('buildPosterCandidateArgs: no candidates');
  const filters = [...sdrFilters(video, params.hdrToneMap ?? true), `scale=w=${width}:h=${height}`].join(',');
  const args = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'];
  for (const candidate of candidates) args.push('-ss', String(candidate.time), '-i', input);
  candidates.forEach((candidate, i) => {
    args.push('-map', `${i}:${video.index}`, '-frames:v', '1', '-filter:v', filters);
    args.push('-q:v', '2', '-update', '1', candidate.path);
  });
  return args;
}

export interface PosterCandidate {
  time: number;
  /** Mean luma, 0–255. */
  meanLuma: number;
  /** Standard deviation of luma, 0–255: a measure of detail. */
  stdDev: number;
}

/** Below this mean luma a frame counts as black (limited-range black is 16). */
export const BLACK_MEAN_LUMA = 24;
/** Below this luma standard deviation a frame counts as blank (one flat colour, a fade). */
export const BLANK_STD_DEV = 10;

/**
 * The poster: the most detailed (highest luma standard deviation) candidate that is neither black nor
 * blank; earliest wins a tie. When every candidate is black or blank, the most detailed of them all
 * (a video still needs a poster). Undefined only for an empty list.
 */
export function choosePoster<T extends PosterCandidate>(candidates: readonly T[]): T | undefined {
  const usable = candidates.filter((c) => c.meanLuma >= BLACK_MEAN_LUMA && c.stdDev >= BLANK_STD_DEV);
  const pool = usable.length > 0 ? usable : candidates;
  let best: T | undefined;
  for (const candidate of pool) if (!best || candidate.stdDev > best.stdDev) best = candidate;
  return best;
}

// ---------- storyboard ----------

export interface StoryboardPlan {
  durationSeconds: number;
  /** One tile every this many seconds; tile i shows the frame at i × interval. */
  intervalSeconds: number;
  tiles: number;
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
}

export interface StoryboardOptions {
  /** Source display size, for the tiles' aspect ratio (default 16:9). */
  displayWidth?: number;
  displayHeight?: number;
  /** At most this many tiles (default 100). */
  maxTiles?: number;
  /** Sprite columns (default 10). */
  columns?: number;
  /** The tile's long side in pixels (default 160). */
  tileLongSide?: number;
}

/** Intervals a person reads easily when scrubbing; the first one giving ≤ maxTiles tiles is used. */
const NICE_INTERVALS = [
  1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 90, 120, 180, 300, 600, 900, 1200, 1800, 3600,
];

/**
 * The storyboard for a video: the shortest "nice" interval (≥ 1 s) that needs at most `maxTiles` tiles
 * (1 s up to 100 s, 2 s up to 200 s, … 60 s up to 100 min), all tiles in one sprite of `columns` columns.
 */
export function planStoryboard(durationSeconds: number, options: StoryboardOptions = {}): StoryboardPlan {
  const maxTiles = options.maxTiles ?? 100;
  const duration = Number.isFinite(durationSeconds) && durationSeconds > 0 ? durationSeconds : 0;
  const needed = duration / maxTiles;
  const intervalSeconds =
    NICE_INTERVALS.find((interval) => interval >= needed) ?? Math.ceil(needed / 3600) * 3600;
  const tiles = Math.min(maxTiles, Math.max(1, Math.ceil(duration / intervalSeconds - 1e-9)));
  const columns = Math.min(options.columns ?? 10, tiles);
  const rows = Math.ceil(tiles / columns);

  const longSide = options.tileLongSide ?? 160;
  const width = options.displayWidth ?? 16;
  const height = options.displayHeight ?? 9;
  const landscape = width >= height;
  const shortSide = evenAtLeast2((longSide * Math.min(width, height)) / Math.max(width, height));
  return {
    durationSeconds: duration,
    intervalSeconds,
    tiles,
    columns,
    rows,
    tileWidth: landscape ? longSide : shortSide,
    tileHeight: landscape ? shortSide : longSide,
  };
}

/** The WebVTT track that maps each time range to its tile in the sprite (`sprite.jpg#xywh=x,y,w,h`). */
export function storyboardVtt(plan: StoryboardPlan, spriteUrl: string): string {
  const lines = ['WEBVTT', ''];
  for (let i = 0; i < plan.tiles; i++) {
    const start = i * plan.intervalSeconds;
    // The last cue ends with the video (tiles × interval never falls short of the duration).
    const last = i === plan.tiles - 1 && plan.durationSeconds > start;
    const end = last ? plan.durationSeconds : (i + 1) * plan.intervalSeconds;
    const x = (i % plan.columns) * plan.tileWidth;
    const y = Math.floor(i / plan.columns) * plan.tileHeight;
    lines.push(`${vttTimestamp(start)} --> ${vttTimestamp(end)}`);
    lines.push(`${spriteUrl}#xywh=${x},${y},${plan.tileWidth},${plan.tileHeight}`, '');
  }
  return lines.join('\n');
}

/** HH:MM:SS.mmm (hours always present, so cues past 99 minutes stay valid). */
export function vttTimestamp(seconds: number): string {
  const totalMs = Math.max(0, Math.round(seconds * 1000));
  const ms = totalMs % 1000;
  const totalSeconds = (totalMs - ms) / 1000;
  const s = totalSeconds % 60;
  const m = Math.floor(totalSeconds / 60) % 60;
  const h = Math.floor(totalSeconds / 3600);
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(ms, 3)}`;
}

export interface StoryboardArgsInput {
  /** The source, or (much cheaper to decode) a small finished rung's playlist. */
  input: string;
  /** Probe of that input: its video stream index and whether it needs tone mapping. */
  probe: ProbeResult;
  plan: StoryboardPlan;
  /** The sprite JPEG path. */
  output: string;
  hdrToneMap?: boolean;
}

/**
 * One sprite image: sample a frame every interval (fps filter), scale it to the tile size, lay the
 * tiles out row by row (tile filter; missing tiles at the end stay black), write the single image.
 */
export function buildStoryboardArgs(params: StoryboardArgsInput): string[] {
  const { input, probe, plan, output } = params;
  const video = probe.video;
  if (!video) throw new RangeError('buildStoryboardArgs: the source has no video stream');
  const filters = [
    // Sample first (round=up: tile i shows the frame at i × interval), so only sampled frames are tone-mapped.
    `fps=1/${plan.intervalSeconds}:round=up`,
    ...sdrFilters(video, params.hdrToneMap ?? true),
    `scale=w=${plan.tileWidth}:h=${plan.tileHeight}`,
    `tile=${plan.columns}x${plan.rows}`,
  ];
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-loglevel',
    'error',
    '-i',
    input,
    '-map',
    `0:${video.index}`,
    '-filter:v',
    filters.join(','),
    '-frames:v',
    '1',
    '-q:v',
    '4',
    '-update',
    '1',
    output,
  ];
}

function roundMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

function evenAtLeast2(value: number): number {
  return Math.max(2, 2 * Math.round(value / 2));
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
