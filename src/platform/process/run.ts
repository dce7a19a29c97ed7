import { type ChildProcess, spawn } from 'node:child_process';

/*
 * The one way Reel starts a child process: an argument array (no shell), stdin closed, stdout captured
 * up to a cap and/or streamed, the redacted tail of stderr kept, SIGKILL on timeout or abort. It knows
 * nothing of what it runs; callers turn a result into their own errors.
 */

export interface RunOptions {
  /** SIGKILL after this many milliseconds; the result's `killedFor` is then 'timeout'. */
  timeoutMs?: number;
  /** Aborting SIGKILLs the process (`killedFor: 'aborted'`); already aborted, nothing is started. */
  signal?: AbortSignal;
  /** Bytes of stdout kept in the result (default 1 MiB); what comes after is dropped and `truncated` set. */
  maxOutput?: number;
  /** What to do once stdout passes `maxOutput`: drop the rest (default) or SIGKILL the process. */
  overflow?: 'truncate' | 'kill';
  /** Characters of stderr kept: its tail (default 64 Ki). */
  maxStderr?: number;
  /**
   * Applied to stderr (a run of whole lines at a time, so a secret must not span a line break) and to
   * the arguments a start failure carries, before anything is kept: secrets never reach the result.
   */
  redact?: (text: string) => string;
  /** Every stdout chunk as it comes. If it throws, the process is SIGKILLed and run rejects with that error. */
  onStdout?: (chunk: Buffer) => void;
  cwd?: string;
}

export interface RunResult {
  /** Exit code; null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why run killed the process, if it did (the process may have exited on its own first: then null). */
  killedFor: 'timeout' | 'aborted' | 'overflow' | null;
  /** The first `maxOutput` bytes of stdout. */
  stdout: Buffer;
  /** True when stdout was longer than `maxOutput`. */
  truncated: boolean;
  /** The last `maxStderr` characters of stderr, redacted. */
  stderr: string;
  durationMs: number;
}

/**
 * The process could not be started: `code` is the spawn error's (ENOENT, EACCES, EAGAIN…), or
 * 'ABORT_ERR' when the signal was aborted before the start (then `cause` is the signal's reason).
 */
export class SpawnError extends Error {
  readonly code: string | null;

  constructor(message: string, code: string | null, cause: unknown) {
    super(message, { cause });
    this.name = 'SpawnError';
    this.code = code;
  }
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024;
const DEFAULT_MAX_STDERR = 64 * 1024;

/**
 * Runs `command` with `args` and resolves once it has exited and its output is drained, whatever its
 * exit code. Rejects with SpawnError when it could not be started, or with the error `onStdout` threw.
 */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { signal, redact = (text) => text } = options;
  if (signal?.aborted) {
    return Promise.reject(new SpawnError('aborted before the start', 'ABORT_ERR', signal.reason));
  }
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd });
    const stdout = new CappedBuffer(options.maxOutput ?? DEFAULT_MAX_OUTPUT);
    const stderr = new RedactedTail(options.maxStderr ?? DEFAULT_MAX_STDERR, redact);
    let killedFor: RunResult['killedFor'] = null;
    let callbackError: { error: unknown } | null = null;
    const kill = (why: RunResult['killedFor']) => {
      if (killProcess(child)) killedFor ??= why;
    };
    const onAbort = () => kill('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      options.timeoutMs === undefined ? undefined : setTimeout(kill, options.timeoutMs, 'timeout');
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (callbackError) return;
      if (!stdout.push(chunk) && options.overflow === 'kill') kill('overflow');
      try {
        options.onStdout?.(chunk);
      } catch (error) {
        callbackError = { error };
        kill(null);
      }
    });
    child.stderr.setEncoding('utf8'); // decodes characters split across chunks
    child.stderr.on('data', (chunk: string) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException & { spawnargs?: string[] }) => {
      // Emitted when the process could not be spawned (or, rarely, not be killed: then 'close' follows).
      if (child.pid !== undefined) return;
      if (Array.isArray(error.spawnargs)) error.spawnargs = error.spawnargs.map(redact);
      settle(() => reject(new SpawnError(error.message, error.code ?? null, error)));
    });
    child.on('close', (code, exitSignal) => {
      // 'close' follows 'exit': the process has been reaped and its output drained.
      const failure = callbackError;
      if (failure) return settle(() => reject(failure.error));
      const durationMs = performance.now() - startedAt;
      const result = { code, signal: exitSignal, killedFor, durationMs };
      settle(() => resolve({ ...result, ...stdout.result(), stderr: stderr.text() }));
    });
  });
}

/** SIGKILL, unless the process has exited already (then its own outcome stands). True if it was sent. */
function killProcess(child: ChildProcess): boolean {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return false;
  return child.kill('SIGKILL');
}

/** A replacer for `redact`: every occurrence of each non-empty secret, in order, becomes `replacement`. */
export function redactStrings(secrets: readonly string[], replacement: string): (text: string) => string {
  const kept = secrets.filter((secret) => secret !== '');
  return (text) => kept.reduce((cleaned, secret) => cleaned.split(secret).join(replacement), text);
}

/** The first `max` bytes of a stream. */
class CappedBuffer {
  readonly #max: number;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #truncated = false;

  constructor(max: number) {
    this.#max = max;
  }

  /** Keeps what fits; false once anything had to be dropped. */
  push(chunk: Buffer): boolean {
    const room = this.#max - this.#size;
    if (chunk.length > room) this.#truncated = true;
    if (room > 0) {
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.#chunks.push(kept);
      this.#size += kept.length;
    }
    return !this.#truncated;
  }

  result(): { stdout: Buffer; truncated: boolean } {
    return { stdout: Buffer.concat(this.#chunks), truncated: this.#truncated };
  }
}

/**
 * The last `max` characters of a text stream. Text is redacted a run of whole lines at a time, before
 * it is kept, so that cutting the tail can never leave half a secret where redaction would miss it.
 */
class RedactedTail {
  readonly #max: number;
  readonly #redact: (text: string) => string;
  #pending = ''; // the last, incomplete line
  #kept = '';

  constructor(max: number, redact: (text: string) => string) {
    this.#max = max;
    this.#redact = redact;
  }

  push(chunk: string): void {
    this.#pending += chunk;
    const end = Math.max(this.#pending.lastIndexOf('\n'), this.#pending.lastIndexOf('\r')) + 1;
    // A line longer than the whole tail without a break is kept as it is so far.
    const cut = end > 0 ? end : this.#pending.length > this.#max ? this.#pending.length : 0;
    if (cut === 0) return;
    this.#kept += this.#redact(this.#pending.slice(0, cut));
    this.#pending = this.#pending.slice(cut);
    if (this.#kept.length > 2 * this.#max) this.#kept = this.#kept.slice(-this.#max);
  }

  text(): string {
    return (this.#kept + this.#redact(this.#pending)).slice(-this.#max);
  }
}
