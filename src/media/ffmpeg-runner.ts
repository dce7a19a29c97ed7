import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';

/*
 * Spawning ffmpeg (and ffprobe) with an argument array: progress from `-progress pipe:1`, the tail of
 * stderr for diagnosis, SIGKILL on abort or timeout, and one error type whose reason and stderr say
 * whether a retry can help (classifyFfmpegFailure).
 */

// ---------- progress ----------

export interface FfmpegProgress {
  /** Output time reached, in seconds; null when ffmpeg reports N/A. */
  outTimeSeconds: number | null;
  /** Encoding speed as a multiple of realtime ('1.23x' → 1.23); null when N/A. */
  speed: number | null;
  /** Frames written so far; null when missing. */
  frame: number | null;
  /** True on the last block (`progress=end`). */
  done: boolean;
}

export interface ProgressParser {
  /** Feeds a chunk of stdout (any split); returns the blocks completed by it. */
  push(chunk: string): FfmpegProgress[];
}

/**
 * A stateful parser for ffmpeg's `-progress` output: key=value lines, each block ended by
 * `progress=continue` or `progress=end`. Chunks may split lines and blocks anywhere.
 */
export function createProgressParser(): ProgressParser {
  let pending = '';
  let fields = new Map<string, string>();
  return {
    push(chunk) {
      pending += chunk;
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      const blocks: FfmpegProgress[] = [];
      for (const line of lines) {
        const eq = line.indexOf('=');
        if (eq <= 0) continue;
        const key = line.slice(0, eq).trim();
        const value = line.slice(eq + 1).trim();
        if (key !== 'progress') {
          fields.set(key, value);
          continue;
        }
        blocks.push(progressBlock(fields, value === 'end'));
        fields = new Map();
      }
      return blocks;
    },
  };
}

/** Parses complete `-progress` blocks from text (a trailing incomplete block is ignored). Pure. */
export function parseProgress(text: string): FfmpegProgress[] {
  return createProgressParser().push(text);
}

function progressBlock(fields: Map<string, string>, done: boolean): FfmpegProgress {
  // out_time_ms is in microseconds too (a long-standing misnomer). When both are N/A, so is out_time.
  const micros = finite(fields.get('out_time_us')) ?? finite(fields.get('out_time_ms'));
  const speedMatch = /^(\d+(?:\.\d+)?(?:e[+-]?\d+)?)x$/i.exec(fields.get('speed') ?? '');
  return {
    outTimeSeconds: micros === null ? null : Math.max(0, micros / 1_000_000),
    speed: speedMatch ? Number(speedMatch[1]) : null,
    frame: finite(fields.get('frame')),
    done,
  };
}

function finite(value: string | undefined): number | null {
  if (value === undefined || !/^-?\d+(?:\.\d+)?$/.test(value)) return null;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}

// ---------- errors ----------

export type FfmpegFailureReason = 'exit' | 'aborted' | 'timeout' | 'spawn';

/** A failed ffmpeg/ffprobe run. `stderrTail` is the end of its stderr (signed URLs' queries removed). */
export class FfmpegError extends Error {
  readonly reason: FfmpegFailureReason;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderrTail: string;
  /** The spawn error's code (ENOENT, EACCES, EAGAIN…) when reason is 'spawn'. */
  readonly spawnCode: string | null;

  constructor(
    message: string,
    fields: {
      reason: FfmpegFailureReason;
      exitCode?: number | null;
      signal?: NodeJS.Signals | null;
      stderrTail?: string;
      spawnCode?: string | null;
      cause?: unknown;
    },
  ) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'FfmpegError';
    this.reason = fields.reason;
    this.exitCode = fields.exitCode ?? null;
    this.signal = fields.signal ?? null;
    this.stderrTail = fields.stderrTail ?? '';
    this.spawnCode = fields.spawnCode ?? null;
  }
}

/** Failures of the machine, the disk or the network: the same input may well work on a retry. */
const TRANSIENT_PATTERNS: readonly RegExp[] = [
  /No space left on device|Cannot allocate memory|Resource temporarily unavailable/i,
  /Input\/output error|\bI\/O error|Operation timed out|received signal \d+/i,
  /Connection (?:refused|reset|timed out)|Network is unreachable|No route to host/i,
  /Server returned 5(?:\d\d|XX)|Failed to resolve hostname|Temporary failure in name resolution/i,
];

/** Failures that the same input and arguments will always reproduce. */
const PERMANENT_PATTERNS: readonly RegExp[] = [
  /Invalid data found when processing input|moov atom not found|EBML header parsing failed/i,
  /could not find codec parameters|Decoder \(codec [^)]*\) not found|Unsupported codec/i,
  /does not contain any stream|Stream map '[^']*' matches no streams|No such file or directory/i,
  /Error while opening encoder|Invalid argument|No such filter/i,
  /Unrecognized option|Option not found|Error parsing options/i,
];

/**
 * Whether retrying a failed run can help. Transient: aborted, timed out, could not spawn, killed by a
 * signal, out of disk or memory, network or I/O errors. Permanent: the input is not decodable media,
 * or the arguments are wrong for it. Unknown non-zero exits count as transient (retries are bounded).
 * Pure.
 */
export function classifyFfmpegFailure(error: FfmpegError): 'permanent' | 'transient' {
  if (error.reason !== 'exit' || error.signal !== null) return 'transient';
  const stderr = error.stderrTail;
  if (TRANSIENT_PATTERNS.some((pattern) => pattern.test(stderr))) return 'transient';
  if (PERMANENT_PATTERNS.some((pattern) => pattern.test(stderr))) return 'permanent';
  return 'transient';
}

// ---------- running ----------

export interface RunOptions {
  /** Aborting kills the process (SIGKILL) and rejects with reason 'aborted'. */
  signal?: AbortSignal;
  /** Called for every `-progress pipe:1` block. If it throws, ffmpeg is killed and the run rejects with that error. */
  onProgress?: (progress: FfmpegProgress) => void;
  /** Kill (SIGKILL) and reject with reason 'timeout' after this many milliseconds. */
  timeoutMs?: number;
  cwd?: string;
}

const STDERR_TAIL_LINES = 60;
const STDERR_TAIL_CHARS = 8 * 1024;

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
  const result = await execute(ffmpegPath, args, options, (chunk) => {
    const blocks = parser.push(chunk.toString('latin1'));
    if (onProgress) for (const block of blocks) onProgress(block);
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
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  const result = await execute(command, args, options, (chunk) => {
    const room = maxBytes - size;
    if (chunk.length > room) truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    chunks.push(kept);
    size += kept.length;
  });
  return { stdout: Buffer.concat(chunks), truncated, stderrTail: result.stderrTail };
}

function execute(
  command: string,
  args: readonly string[],
  options: Omit<RunOptions, 'onProgress'>,
  onStdout: (chunk: Buffer) => void,
): Promise<{ stderrTail: string }> {
  const name = command.split(/[\\/]/).pop() || command;
  const { signal: abortSignal, timeoutMs } = options;
  if (abortSignal?.aborted) {
    const message = `${name} was not started: the run was aborted`;
    return Promise.reject(new FfmpegError(message, { reason: 'aborted', cause: abortSignal.reason }));
  }
  const secrets = urlQueries(args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd });
    const stderr = new TailBuffer();
    let killedFor: 'aborted' | 'timeout' | null = null;
    let callbackError: { error: unknown } | null = null;
    let settled = false;

    /** SIGKILL, unless the process has already exited (then its own outcome stands). */
    const kill = (why: 'aborted' | 'timeout' | null) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      killedFor ??= why;
      child.kill('SIGKILL');
    };
    const onAbort = () => kill('aborted');
    abortSignal?.addEventListener('abort', onAbort, { once: true });
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => kill('timeout'), timeoutMs);
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abortSignal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve({ stderrTail: stderr.tail(secrets) });
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (callbackError) return;
      try {
        onStdout(chunk);
      } catch (error) {
        callbackError = { error };
        kill(null);
      }
    });
    child.stderr.setEncoding('utf8'); // decodes characters split across chunks
    child.stderr.on('data', (chunk: string) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Emitted when the process could not be spawned (or, rarely, not be killed: then 'close' follows).
      if (child.pid !== undefined) return;
      const message = `Could not start ${name} (${command}): ${error.message}`;
      finish(new FfmpegError(message, { reason: 'spawn', spawnCode: error.code ?? null, cause: error }));
    });
    child.on('close', (exitCode, signal) => {
      // 'close' follows 'exit': the process has been reaped and its output drained.
      if (callbackError) {
        const { error } = callbackError;
        return finish(error instanceof Error ? error : new Error(String(error)));
      }
      if (exitCode === 0 && !killedFor) return finish(null);
      const stderrTail = stderr.tail(secrets);
      const reason = killedFor ?? 'exit';
      const how =
        reason === 'aborted'
          ? 'was aborted'
          : reason === 'timeout'
            ? `was killed after ${timeoutMs} ms`
            : signal
              ? `was killed by ${signal}`
              : `exited with code ${exitCode}`;
      const lastLine = reason === 'exit' ? stderrTail.split('\n').pop() : '';
      const cause = reason === 'aborted' ? abortSignal?.reason : undefined;
      const message = `${name} ${how}${lastLine ? `: ${lastLine}` : ''}`;
      finish(new FfmpegError(message, { reason, exitCode, signal, stderrTail, cause }));
    });
  });
}

/** Keeps roughly the end of a stream of text; `tail()` gives the last 60 lines, 8 KiB at most. */
class TailBuffer {
  private text = '';

  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > 4 * STDERR_TAIL_CHARS) this.text = this.text.slice(-2 * STDERR_TAIL_CHARS);
  }

  tail(secrets: readonly string[]): string {
    let text = this.text;
    for (const secret of secrets) text = text.split(secret).join('?<redacted>');
    const lines = text
      .trimEnd()
      .split(/\r?\n|\r/)
      .slice(-STDERR_TAIL_LINES)
      .join('\n');
    return lines.length > STDERR_TAIL_CHARS ? lines.slice(-STDERR_TAIL_CHARS) : lines;
  }
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

/** ffprobe's names of H.264 profile_idc values (constraint_set1 turns Baseline into Constrained Baseline). */
const AVC_PROFILE_NAMES: Readonly<Record<number, string>> = {
  66: 'Baseline',
  77: 'Main',
  88: 'Extended',
  100: 'High',
  110: 'High 10',
  122: 'High 4:2:2',
  244: 'High 4:4:4 Predictive',
};

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

/** Init segments are a few hundred bytes; a bigger file without a level is not scanned. */
const AVCC_SCAN_LIMIT = 1024 * 1024;

/**
 * Profile (ffprobe's name) and level_idc from the first AVCDecoderConfigurationRecord ('avcC' box:
 * version 1, profile_idc, constraint flags, level_idc) in MP4 bytes; null when there is none. Pure.
 */
export function avcConfig(bytes: Uint8Array): { profile: string; levelIdc: number } | null {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = data.indexOf('avcC'); at >= 4; at = data.indexOf('avcC', at + 1)) {
    const size = data.readUInt32BE(at - 4); // the box: size, 'avcC', record (≥ 7 bytes)
    if (size < 15 || at - 4 + size > data.length || data[at + 4] !== 1) continue;
    const profileIdc = data[at + 5]!;
    const constrained = profileIdc === 66 && (data[at + 6]! & 0x40) !== 0;
    const name = constrained ? 'Constrained Baseline' : AVC_PROFILE_NAMES[profileIdc];
    return name ? { profile: name, levelIdc: data[at + 7]! } : null;
  }
  return null;
}
