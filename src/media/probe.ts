import path from 'node:path';
import { errors } from '../errors.ts';
import { type RunResult, redactStrings, run, SpawnError } from '../platform/process/run.ts';
import type { AudioStreamInfo, ProbeResult, VideoStreamInfo } from './probe-result.ts';

export interface ProbeOptions {
  /** ffprobe is killed after this long (default 30 s). */
  timeoutMs?: number;
}

export interface MediaLimits {
  maxDurationSeconds: number;
  maxWidth: number;
  maxHeight: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** ffprobe's JSON for a normal file is a few kB; more than this means a pathological file. */
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
const STDERR_EXCERPT_CHARS = 500;

const UNREADABLE_MESSAGE =
  'The file could not be read as a video: its format is not recognised or its data is damaged. ' +
  'Upload a complete video file (for example MP4, MOV, MKV or WebM).';

/**
 * Runs ffprobe on a file path or an http(s) URL and returns what Reel needs of it. Rejects with
 * MEDIA_UNREADABLE (not media, damaged, timeout), MEDIA_NO_VIDEO_STREAM or MEDIA_ZERO_DURATION.
 * The returned result always has a video stream with a picture size and a positive duration.
 */
export async function probeMedia(
  ffprobePath: string,
  input: string,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // An absolute path can neither be taken for an option ('-…') nor for a protocol ('name:…').
  const target = /^https?:\/\//i.test(input) ? input : path.resolve(input);
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', target];
  // The input's path or URL may hold storage layout or a signature: never in details.
  const redact = redactStrings([input, target], '<input>');
  const result = await runFfprobe(ffprobePath, args, { timeoutMs, redact });
  const stderr = excerpt(result.stderr);

  if (result.killedFor === 'timeout') {
    throw errors.mediaUnreadable(
      `Reading the video's format took longer than ${timeoutMs / 1000} s, so it was stopped. ` +
        'The file may be damaged or its source too slow; try again, or re-export the video.',
      { reason: 'timeout', timeoutMs, stderr },
    );
  }
  if (result.truncated) {
    throw errors.mediaUnreadable(UNREADABLE_MESSAGE, { reason: 'probe-output-too-large', stderr });
  }
  if (result.code !== 0) {
    throw errors.mediaUnreadable(UNREADABLE_MESSAGE, {
      reason: 'ffprobe-failed',
      exitCode: result.code,
      signal: result.signal,
      stderr,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(result.stdout.toString('utf8'));
  } catch {
    throw errors.mediaUnreadable(UNREADABLE_MESSAGE, { reason: 'invalid-probe-output', stderr });
  }
  const probe = parseProbe(json);
  assertPlayable(probe);
  return probe;
}

/** Throws unless the probe describes something Reel can transcode: a sized video stream with a duration. */
export function assertPlayable(
  probe: ProbeResult,
): asserts probe is ProbeResult & { video: VideoStreamInfo } {
  if (!probe.video) {
    throw errors.mediaNoVideoStream(
      probe.audio
        ? 'The file contains audio but no video stream (cover art does not count). Upload a file with video.'
        : 'The file contains no video stream. Upload a file with video.',
      { container: probe.container, hasAudio: probe.audio !== null },
    );
  }
  if (probe.video.width <= 0 || probe.video.height <= 0) {
    throw errors.mediaUnreadable(`${UNREADABLE_MESSAGE} (The video stream has no picture size.)`, {
      reason: 'no-picture-size',
      codec: probe.video.codec,
    });
  }
  if (!(probe.durationSeconds > 0)) {
    throw errors.mediaZeroDuration(
      'The video has no duration: it may be a single still image or a truncated file. ' +
        'Upload a video that plays for some time.',
      { container: probe.container },
    );
  }
}

/** Throws MEDIA_TOO_LONG or MEDIA_RESOLUTION_TOO_HIGH when the probe is beyond the configured limits. */
export function validateProbe(probe: ProbeResult, limits: MediaLimits): void {
  if (probe.durationSeconds > limits.maxDurationSeconds) {
    throw errors.mediaTooLong(
      `The video lasts ${clock(probe.durationSeconds)}; the longest accepted is ${clock(limits.maxDurationSeconds)}. ` +
        'Trim it or split it into parts.',
      { durationSeconds: probe.durationSeconds, maxDurationSeconds: limits.maxDurationSeconds },
    );
  }
  const video = probe.video;
  if (video && (video.displayWidth > limits.maxWidth || video.displayHeight > limits.maxHeight)) {
    throw errors.mediaResolutionTooHigh(
      `The video is ${video.displayWidth}×${video.displayHeight}; the largest accepted is ` +
        `${limits.maxWidth}×${limits.maxHeight}. Scale it down before uploading.`,
      {
        width: video.displayWidth,
        height: video.displayHeight,
        maxWidth: limits.maxWidth,
        maxHeight: limits.maxHeight,
      },
    );
  }
}

/**
 * Maps ffprobe's `-print_format json -show_format -show_streams` output to a ProbeResult. Pure.
 * A missing video stream or duration is reported as null / 0 here; `assertPlayable` rejects them.
 */
export function parseProbe(json: unknown): ProbeResult {
  const root = record(json);
  if (!root || (!Array.isArray(root.streams) && !record(root.format))) {
    throw errors.mediaUnreadable(UNREADABLE_MESSAGE, { reason: 'no-streams-or-format' });
  }
  const streams = (Array.isArray(root.streams) ? root.streams : [])
    .map(record)
    .filter((s) => s !== undefined);
  const format = record(root.format) ?? {};

  const videoStream = streams.find(
    (s) => s.codec_type === 'video' && number(record(s.disposition)?.attached_pic) !== 1,
  );
  const audioStream = streams.find((s) => s.codec_type === 'audio');
  const bitrate = number(format.bit_rate);

  return {
    container: text(format.format_name) ?? 'unknown',
    durationSeconds: positive(number(format.duration)) ?? positive(number(videoStream?.duration)) ?? 0,
    bitrate: bitrate !== null && bitrate > 0 ? Math.round(bitrate) : null,
    video: videoStream ? videoInfo(videoStream, streams.indexOf(videoStream)) : null,
    audio: audioStream ? audioInfo(audioStream, streams.indexOf(audioStream)) : null,
    raw: json,
  };
}

type Fields = Record<string, unknown>;

function videoInfo(stream: Fields, position: number): VideoStreamInfo {
  const width = number(stream.width) ?? 0;
  const height = number(stream.height) ?? 0;
  const rotation = displayRotation(stream);
  const swapped = rotation === 90 || rotation === 270;
  const pixelFormat = text(stream.pix_fmt);
  return {
    index: number(stream.index) ?? position,
    codec: text(stream.codec_name) ?? 'unknown',
    width,
    height,
    rotation,
    displayWidth: swapped ? height : width,
    displayHeight: swapped ? width : height,
    fps: frameRate(stream.avg_frame_rate) ?? frameRate(stream.r_frame_rate),
    pixelFormat,
    bitDepth: bitDepth(stream.bits_per_raw_sample, pixelFormat),
    colorTransfer: text(stream.color_transfer),
    profile: text(stream.profile),
  };
}

function audioInfo(stream: Fields, position: number): AudioStreamInfo {
  return {
    index: number(stream.index) ?? position,
    codec: text(stream.codec_name) ?? 'unknown',
    channels: number(stream.channels) ?? 0,
    sampleRate: number(stream.sample_rate) ?? 0,
  };
}

/**
 * Clockwise display rotation. ffprobe's display-matrix `rotation` is counter-clockwise (-90 means
 * "turn 90° clockwise to display"); the legacy `rotate` tag (ffmpeg ≤ 4) is already clockwise.
 */
function displayRotation(stream: Fields): number {
  const sideData = Array.isArray(stream.side_data_list) ? stream.side_data_list : [];
  for (const entry of sideData) {
    const counterClockwise = number(record(entry)?.rotation);
    if (counterClockwise !== null) return quarterTurns(-counterClockwise);
  }
  const tag = number(record(stream.tags)?.rotate);
  return tag === null ? 0 : quarterTurns(tag);
}

/** Degrees → 0, 90, 180 or 270 (nearest quarter turn). */
function quarterTurns(degrees: number): number {
  const turned = ((Math.round(degrees / 90) * 90) % 360) + 360; // +360 also turns -0 into 0
  return turned % 360;
}

/** 'num/den' (or a plain number) → frames per second; null for 0/0, 0 or garbage. */
function frameRate(value: unknown): number | null {
  const match =
    typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)(?:\s*\/\s*(\d+(?:\.\d+)?))?\s*$/.exec(value) : null;
  if (!match) return null;
  const rate = Number(match[1]) / (match[2] === undefined ? 1 : Number(match[2]));
  return Number.isFinite(rate) && rate > 0 ? rate : null;
}

const BIT_DEPTHS = new Set([9, 10, 12, 14, 16]);

/** From bits_per_raw_sample, else from the pixel format's name (yuv420p10le, p010le, gray12le…), else 8. */
function bitDepth(bitsPerRawSample: unknown, pixelFormat: string | null): number {
  const raw = number(bitsPerRawSample);
  if (raw !== null && Number.isInteger(raw) && raw > 0) return raw;
  const digits = pixelFormat ? /(\d+)(?:le|be)$/.exec(pixelFormat)?.[1] : undefined;
  if (digits === undefined) return 8;
  // p010 / p016 / y210 / p410: the last two digits are the depth.
  const depth = Number(digits.length === 3 ? digits.slice(1) : digits);
  if (BIT_DEPTHS.has(depth)) return depth;
  return depth === 48 || depth === 64 ? 16 : 8; // rgb48 / rgba64: 16 bits per component
}

function record(value: unknown): Fields | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : undefined;
}

function number(value: unknown): number | null {
  const parsed =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
  return Number.isFinite(parsed) ? parsed : null;
}

function positive(value: number | null): number | null {
  return value !== null && value > 0 ? value : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function clock(seconds: number): string {
  const whole = Math.ceil(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/** The end of (already redacted) stderr, short enough for error details. */
function excerpt(stderr: string): string {
  const cleaned = stderr.trim();
  return cleaned.length > STDERR_EXCERPT_CHARS ? `…${cleaned.slice(-STDERR_EXCERPT_CHARS)}` : cleaned;
}

/**
 * Runs ffprobe; an ffprobe that cannot be started is an operator's problem, not the media's, so it
 * rejects with a plain Error rather than an AppError.
 */
async function runFfprobe(
  command: string,
  args: string[],
  options: { timeoutMs: number; redact: (text: string) => string },
): Promise<RunResult> {
  try {
    // More output than MAX_OUTPUT_BYTES is never worth waiting for: kill, and report it as such.
    return await run(command, args, { ...options, maxOutput: MAX_OUTPUT_BYTES, overflow: 'kill' });
  } catch (error) {
    if (!(error instanceof SpawnError)) throw error;
    throw new Error(`Could not run ffprobe (${command}): ${error.message}`, { cause: error.cause });
  }
}
