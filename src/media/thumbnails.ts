import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runAndCapture, runFfmpeg } from './ffmpeg-runner.ts';
import type { ProbeResult } from './probe-result.ts';
import {
  buildPosterCandidateArgs,
  buildStoryboardArgs,
  choosePoster,
  type PosterCandidate,
  type PosterCandidatePlan,
  planPosterCandidates,
  planStoryboard,
  type StoryboardPlan,
  storyboardVtt,
} from './thumbnails-plan.ts';

/*
 * The side-effecting half of thumbnails-plan.ts: extract poster candidates, measure them, write the
 * chosen one at each size; render the storyboard sprite and its WebVTT.
 */

export const DEFAULT_POSTER_WIDTHS: readonly number[] = [1280, 640];
const CANDIDATE_DIR = 'poster-candidates';
/** Frames are measured at this size: plenty for a mean and a spread, and a 2.3 kB read. */
const STATS_WIDTH = 64;
const STATS_HEIGHT = 36;

export interface FrameStats {
  /** Mean luma, 0–255 (full range: the JPEG's). */
  meanLuma: number;
  /** Standard deviation of luma, 0–255. */
  stdDev: number;
}

/** Mean and standard deviation of an image's luma, measured on a 64×36 grey downscale. */
export async function frameStats(
  ffmpegPath: string,
  imagePath: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<FrameStats> {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', imagePath];
  args.push('-frames:v', '1', '-vf', `scale=w=${STATS_WIDTH}:h=${STATS_HEIGHT}:flags=area,format=gray`);
  args.push('-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1');
  const pixels = STATS_WIDTH * STATS_HEIGHT;
  const { stdout } = await runAndCapture(ffmpegPath, args, {
    timeoutMs: options.timeoutMs ?? 30_000,
    maxBytes: pixels,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (stdout.length !== pixels) {
    throw new Error(`frameStats: expected ${pixels} grey pixels from ${imagePath}, got ${stdout.length}`);
  }
  return lumaStats(stdout);
}

/** Mean and (population) standard deviation of 8-bit samples. Pure. */
export function lumaStats(samples: Uint8Array): FrameStats {
  if (samples.length === 0) return { meanLuma: 0, stdDev: 0 };
  let sum = 0;
  let sumSquares = 0;
  for (const value of samples) {
    sum += value;
    sumSquares += value * value;
  }
  const meanLuma = sum / samples.length;
  const variance = Math.max(0, sumSquares / samples.length - meanLuma * meanLuma);
  return { meanLuma, stdDev: Math.sqrt(variance) };
}

/**
 * The poster's sizes: each width clamped to the source's display width (never upscaled), both sides
 * even, the height following the display aspect ratio; duplicates dropped, order kept. Pure.
 */
export function posterSizes(
  displayWidth: number,
  displayHeight: number,
  widths: readonly number[] = DEFAULT_POSTER_WIDTHS,
): Array<{ width: number; height: number }> {
  const sizes: Array<{ width: number; height: number }> = [];
  for (const requested of widths) {
    const width = evenAtLeast2(Math.min(requested, displayWidth), Math.floor);
    if (sizes.some((size) => size.width === width)) continue;
    sizes.push({ width, height: evenAtLeast2((width * displayHeight) / displayWidth, Math.round) });
  }
  return sizes;
}

export interface PosterInput {
  ffmpegPath: string;
  /** Source file path or URL. */
  input: string;
  probe: ProbeResult;
  /** Receives `poster_<width>.jpg`; candidates are extracted to a subfolder removed afterwards. */
  workDir: string;
  /** Default [1280, 640]. */
  widths?: readonly number[];
  signal?: AbortSignal;
  /** Per ffmpeg run (default 120 s). */
  timeoutMs?: number;
}

export interface PosterFile {
  width: number;
  height: number;
  path: string;
}

export interface PosterResult {
  /** One per distinct width, in the order of `widths`. */
  files: PosterFile[];
  /** The chosen frame: its time in the source and its measurements. */
  chosen: PosterCandidate;
}

/**
 * Extracts candidate frames (10/25/50/75 % of the duration) at the largest poster size, measures
 * them, and writes the one choosePoster prefers at every size. When every candidate is black or
 * blank, choosePoster still returns the most detailed one. When no candidate could be extracted
 * (a duration longer than the real stream), the first frame is used.
 */
export async function makePoster(params: PosterInput): Promise<PosterResult> {
  const { ffmpegPath, input, probe, workDir } = params;
  const video = probe.video;
  if (!video) throw new RangeError('makePoster: the source has no video stream');
  const sizes = posterSizes(video.displayWidth, video.displayHeight, params.widths ?? DEFAULT_POSTER_WIDTHS);
  if (sizes.length === 0) throw new RangeError('makePoster: no poster widths');
  const largest = sizes.reduce((a, b) => (b.width > a.width ? b : a));
  const run = runOptions(params);

  const candidateDir = path.join(workDir, CANDIDATE_DIR);
  await rm(candidateDir, { recursive: true, force: true }); // nothing stale from an interrupted attempt
  await mkdir(candidateDir, { recursive: true });
  try {
    const extract = async (plans: PosterCandidatePlan[]) => {
      const args = buildPosterCandidateArgs({ input, probe, candidates: plans, ...largest });
      await runFfmpeg(ffmpegPath, args, run);
      const measured: Array<PosterCandidate & { path: string }> = [];
      for (const plan of plans) {
        if (!(await isNonEmptyFile(plan.path))) continue; // seeked past the last frame
        measured.push({ ...plan, ...(await frameStats(ffmpegPath, plan.path, run)) });
      }
      return measured;
    };
    let chosen = choosePoster(await extract(planPosterCandidates(probe.durationSeconds, candidateDir)));
    chosen ??= choosePoster(await extract(planPosterCandidates(0, candidateDir)));
    if (!chosen) throw new Error(`makePoster: ffmpeg extracted no frame from the video (${video.codec})`);

    const files = sizes.map((size) => ({ ...size, path: path.join(workDir, `poster_${size.width}.jpg`) }));
    const smaller = files.filter((file) => file.width !== largest.width);
    if (smaller.length > 0) {
      // Scale the chosen full-quality JPEG down rather than decoding the source again.
      const args = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', chosen.path];
      for (const file of smaller) {
        args.push('-map', '0:v:0', '-frames:v', '1', '-filter:v', `scale=w=${file.width}:h=${file.height}`);
        args.push('-q:v', '2', '-update', '1', file.path);
      }
      await runFfmpeg(ffmpegPath, args, run);
    }
    await rename(chosen.path, path.join(workDir, `poster_${largest.width}.jpg`));
    for (const file of files) {
      if (!(await isNonEmptyFile(file.path))) throw new Error(`makePoster: ${file.path} was not written`);
    }
    return { files, chosen: { time: chosen.time, meanLuma: chosen.meanLuma, stdDev: chosen.stdDev } };
  } finally {
    await rm(candidateDir, { recursive: true, force: true });
  }
}

export interface StoryboardInput {
  ffmpegPath: string;
  /** The source, or (cheaper to decode) a small finished rung's playlist. */
  input: string;
  /** Probe of that input (video stream index, display size, HDR). */
  probe: ProbeResult;
  durationSeconds: number;
  /** Receives `storyboard.jpg` and `storyboard.vtt`. */
  workDir: string;
  /** How the VTT refers to the sprite (e.g. `storyboard.jpg`, or an absolute URL). */
  spriteUrl: string;
  signal?: AbortSignal;
  /** Default 3 × the duration, at least 300 s: the storyboard decodes (and tone-maps) the whole input. */
  timeoutMs?: number;
}

export interface StoryboardResult {
  spritePath: string;
  vttPath: string;
  plan: StoryboardPlan;
}

/** Renders the storyboard sprite (one tile per interval) and writes the WebVTT that maps times to tiles. */
export async function makeStoryboard(params: StoryboardInput): Promise<StoryboardResult> {
  const { ffmpegPath, input, probe, workDir } = params;
  const video = probe.video;
  if (!video) throw new RangeError('makeStoryboard: the source has no video stream');
  const plan = planStoryboard(params.durationSeconds, {
    displayWidth: video.displayWidth,
    displayHeight: video.displayHeight,
  });
  await mkdir(workDir, { recursive: true });
  const spritePath = path.join(workDir, 'storyboard.jpg');
  const vttPath = path.join(workDir, 'storyboard.vtt');
  await runFfmpeg(
    ffmpegPath,
    buildStoryboardArgs({ input, probe, plan, output: spritePath }),
    runOptions({ ...params, timeoutMs: params.timeoutMs ?? Math.max(300_000, plan.durationSeconds * 3000) }),
  );
  if (!(await isNonEmptyFile(spritePath))) {
    throw new Error('makeStoryboard: ffmpeg wrote no storyboard sprite (the input had no frames)');
  }
  await writeFile(vttPath, storyboardVtt(plan, params.spriteUrl));
  return { spritePath, vttPath, plan };
}

function runOptions(params: { signal?: AbortSignal; timeoutMs?: number }): {
  signal?: AbortSignal;
  timeoutMs: number;
} {
  return { timeoutMs: params.timeoutMs ?? 120_000, ...(params.signal ? { signal: params.signal } : {}) };
}

async function isNonEmptyFile(file: string): Promise<boolean> {
  try {
    const info = await stat(file);
    return info.isFile() && info.size > 0;
  } catch {
    return false;
  }
}

function evenAtLeast2(value: number, round: (x: number) => number): number {
  return Math.max(2, 2 * round(value / 2));
}
