import { readFile, stat } from 'node:fs/promises';
import { type RunResult, redactStrings, run, SpawnError } from '../platform/process/run.ts';
import { avcConfig } from './avcc.ts';
import { FfmpegError, ffmpegFailure, stderrTail } from './ffmpeg-failure.ts';
import { createProgressParser, type FfmpegProgress } from './ffmpeg-progress.ts';

// Importers outside media/ take the error type and its classifier from here, with the runner.
export { classifyFfmpegFailure, FfmpegError } from './ffmpeg-failure.ts';

/*
 * Running ffmpeg (and ffprobe) through platform/process/run: progress from `-progress pipe:1`, the
 * tail of stderr for diagnosis, SIGKILL on abort or timeout, and one error type whose reason and
 * stderr say whether a retry can help (classifyFfmpegFailure).
 */

export interface RunOptions {
  /** Aborting kills the process (SIGKILL) and rejects with reason 'aborted'. */
  signal?: AbortSignal;
  /** Called for every `-progress pipe:1` block. If it throws, ffmpeg is killed and the run rejects with that error. */
  onProgress?: (progress: FfmpegProgress) => void;
  /** Kill (SIGKILL) and reject with reason 'timeout' after this many milliseconds. */
  timeoutMs?: number;
  cwd?: string;
}

/**
 * Runs ffmpeg with an argument array (no shell, stdin closed), reporting progress from stdout when
 * the arguments include `-progress pipe:1`. Resolves with the tail of stderr once ffmpeg exits with 0;
 * otherwise rejects with FfmpegError (and the process has exited by then).
 */
export async function runFfmpeg(
  ffmpegPath: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<{ stderrTail: string }> {
  const parser = createProgressParser();
  const { onProgress } = options;
  const result = await execute(ffmpegPath, args, options, {
    maxOutput: 0, // progress is parsed as it comes, nothing to keep
    onStdout: (chunk) => {
      const blocks = parser.push(chunk.toString('latin1'));
      if (onProgress) for (const block of blocks) onProgress(block);
    },
  });
  return { stderrTail: result.stderrTail };
}

/**
 * Runs ffmpeg or ffprobe and collects its stdout (at most `maxBytes`; the rest is dropped and
 * `truncated` set). Same failure handling as runFfmpeg.
 */
export async function runAndCapture(
  command: string,
  args: readonly string[],
  options: Omit<RunOptions, 'onProgress'> & { maxBytes?: number } = {},
): Promise<{ stdout: Buffer; truncated: boolean; stderrTail: string }> {
  const result = await execute(command, args, options, { maxOutput: options.maxBytes ?? 16 * 1024 * 1024 });
  return { stdout: result.stdout, truncated: result.truncated, stderrTail: result.stderrTail };
}

/** run() with the runner's rules: URL queries redacted, anything but a clean exit 0 an FfmpegError. */
async function execute(
  command: string,
  args: readonly string[],
  { signal, timeoutMs, cwd }: Omit<RunOptions, 'onProgress'>,
  output: { maxOutput: number; onStdout?: (chunk: Buffer) => void },
): Promise<RunResult & { stderrTail: string }> {
  const name = command.split(/[\\/]/).pop() || command;
  let result: RunResult;
  try {
    const redact = redactStrings(urlQueries(args), '?<redacted>');
    result = await run(command, args, { signal, timeoutMs, cwd, redact, ...output });
  } catch (error) {
    throw notRun(name, command, error);
  }
  const tail = stderrTail(result.stderr);
  if (result.code === 0 && !result.killedFor) return { ...result, stderrTail: tail };
  const reason = result.killedFor === 'aborted' || result.killedFor === 'timeout' ? result.killedFor : 'exit';
  const { code: exitCode, signal: exitSignal } = result;
  const cause = reason === 'aborted' ? signal?.reason : undefined;
  throw ffmpegFailure(name, { reason, exitCode, signal: exitSignal, stderrTail: tail, timeoutMs, cause });
}

/** The error for a run that never started (or whose onStdout threw: that error is passed on). */
function notRun(name: string, command: string, error: unknown): Error {
  if (!(error instanceof SpawnError)) return error instanceof Error ? error : new Error(String(error));
  if (error.code === 'ABORT_ERR') {
    return new FfmpegError(`${name} was not started: the run was aborted`, {
      reason: 'aborted',
      cause: error.cause,
    });
  }
  const message = `Could not start ${name} (${command}): ${error.message}`;
  return new FfmpegError(message, { reason: 'spawn', spawnCode: error.code, cause: error.cause });
}

/** The query strings (`?X-Amz-Signature=…`) of http(s) arguments: kept out of error messages. */
function urlQueries(args: readonly string[]): string[] {
  const queries: string[] = [];
  for (const arg of args) {
    const match = /^https?:\/\/[^?#\s]*(\?[^#\s]+)/i.exec(arg);
    if (match) queries.push(match[1]!);
  }
  return queries;
}

// ---------- output codec ----------

export interface OutputCodec {
  codec: string;
  /** As ffprobe names it: 'High', 'Main', 'Constrained Baseline'… (what avc1CodecString takes). */
  profile: string;
  /** e.g. 3.1 (H.264 level_idc 31 / 10; HEVC level_idc 93 / 30). */
  level: number;
  width: number;
  height: number;
}

/** Init segments are a few hundred bytes; a bigger file without a level is not scanned. */
const AVCC_SCAN_LIMIT = 1024 * 1024;

/**
 * The first video stream's codec, profile and level as written in an output (an fMP4 init segment or
 * any MP4), so the master playlist's CODECS comes from the file rather than from the settings (x264
 * signals the profile of the features it used: `-preset ultrafast -profile:v high` gives Constrained
 * Baseline). ffprobe 5.1 reports no profile or level for an init segment alone (they come from a
 * parsed frame): then they are read from the file's avcC box.
 */
export async function probeOutputCodec(
  ffprobePath: string,
  file: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<OutputCodec> {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_streams', '-of', 'json', file];
  const { stdout } = await runAndCapture(ffprobePath, args, {
    timeoutMs: options.timeoutMs ?? 30_000,
    maxBytes: 4 * 1024 * 1024,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const json = JSON.parse(stdout.toString('utf8')) as { streams?: Array<Record<string, unknown>> };
  const stream = json.streams?.[0] ?? {};
  const codec = typeof stream.codec_name === 'string' ? stream.codec_name : '';
  let profile = typeof stream.profile === 'string' ? stream.profile : '';
  let levelIdc = typeof stream.level === 'number' ? stream.level : -1;
  if (codec === 'h264' && (!profile || levelIdc <= 0)) {
    const config = (await stat(file)).size <= AVCC_SCAN_LIMIT ? avcConfig(await readFile(file)) : null;
    if (config) ({ profile, levelIdc } = config);
  }
  if (!codec || !profile || levelIdc <= 0) {
    throw new Error(`${file}: ffprobe found no video stream with a codec profile and level`);
  }
  return {
    codec,
    profile,
    level: Math.round((levelIdc / (codec === 'hevc' ? 30 : codec === 'h264' ? 10 : 1)) * 10) / 10,
    width: typeof stream.width === 'number' ? stream.width : 0,
    height: typeof stream.height === 'number' ? stream.height : 0,
  };
}
