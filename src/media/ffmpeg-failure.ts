/*
 * What a failed ffmpeg/ffprobe run means: one error type, its message, and whether a retry can help.
 * Pure: the runner hands over how the process ended and its (already redacted) stderr.
 */

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

const STDERR_TAIL_LINES = 60;
const STDERR_TAIL_CHARS = 8 * 1024;

/** The end of stderr worth keeping with an error or a log: the last 60 lines, 8 KiB at most. Pure. */
export function stderrTail(stderr: string): string {
  const lines = stderr
    .trimEnd()
    .split(/\r?\n|\r/)
    .slice(-STDERR_TAIL_LINES)
    .join('\n');
  return lines.length > STDERR_TAIL_CHARS ? lines.slice(-STDERR_TAIL_CHARS) : lines;
}

export interface EndedRun {
  /** 'exit' when the process ended by itself (with a non-zero code or a signal). */
  reason: 'exit' | 'aborted' | 'timeout';
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The redacted stderr tail (see stderrTail). */
  stderrTail: string;
  timeoutMs?: number;
  cause?: unknown;
}

/**
 * The error for a run of `name` that did not succeed: the message says how it ended and, for an exit,
 * ends with stderr's last line (ffmpeg's own summary of what went wrong). Pure.
 */
export function ffmpegFailure(name: string, run: EndedRun): FfmpegError {
  const { reason, exitCode, signal, stderrTail, cause } = run;
  const how =
    reason === 'aborted'
      ? 'was aborted'
      : reason === 'timeout'
        ? `was killed after ${run.timeoutMs} ms`
        : signal
          ? `was killed by ${signal}`
          : `exited with code ${exitCode}`;
  const lastLine = reason === 'exit' ? stderrTail.split('\n').pop() : '';
  const message = `${name} ${how}${lastLine ? `: ${lastLine}` : ''}`;
  return new FfmpegError(message, { reason, exitCode, signal, stderrTail, cause });
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
