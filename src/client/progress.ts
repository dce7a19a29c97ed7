/** Upload progress on stderr: pure formatting (unit tested) apart from the throttled writer. */

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** 512 → "512 B", 1536 → "1.5 KiB", 8 MiB → "8.0 MiB", 1.5 GiB → "1.50 GiB". */
export function formatBytes(bytes: number): string {
  if (bytes < KiB) return `${Math.round(bytes)} B`;
  if (bytes < MiB) return `${(bytes / KiB).toFixed(1)} KiB`;
  if (bytes < GiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${(bytes / GiB).toFixed(2)} GiB`;
}

/** Bytes per second as MiB/s with one decimal; "-- MiB/s" while unknown. */
export function formatRate(bytesPerSecond: number | undefined): string {
  if (bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond)) return '-- MiB/s';
  return `${(bytesPerSecond / MiB).toFixed(1)} MiB/s`;
}

/** 75 → "1:15", 3725 → "1:02:05", unknown → "--:--" (seconds rounded up: never "0:00" too early). */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--:--';
  const total = Math.ceil(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export interface ProgressLine {
  /** Usually the file name. */
  label: string;
  bytesDone: number;
  bytesTotal: number;
  /** Smoothed transfer rate; undefined until measured. */
  bytesPerSecond: number | undefined;
  /** Replaces the ETA, e.g. "verifying…" once every byte is sent. */
  note?: string;
  /** Width of the bar in characters; default 24. */
  barWidth?: number;
}

/**
 * One status line:
 * `clip.mp4 [############............]  50%  128.0 MiB / 256.0 MiB  42.0 MiB/s  ETA 0:04`.
 * The percentage is rounded down: 100 % means every byte.
 */
export function formatProgress(line: ProgressLine): string {
  const width = line.barWidth ?? 24;
  const ratio = line.bytesTotal > 0 ? Math.min(1, Math.max(0, line.bytesDone / line.bytesTotal)) : 1;
  const filled = Math.floor(ratio * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  const amounts = `${formatBytes(line.bytesDone)} / ${formatBytes(line.bytesTotal)}`;
  const remaining = line.bytesTotal - line.bytesDone;
  const eta =
    remaining <= 0
      ? 0
      : line.bytesPerSecond && line.bytesPerSecond > 0
        ? remaining / line.bytesPerSecond
        : undefined;
  const tail = line.note ?? `ETA ${formatDuration(eta)}`;
  return `${line.label} ${bar} ${percent}  ${amounts}  ${formatRate(line.bytesPerSecond)}  ${tail}`;
}

/** Transfer rate over a sliding window of (time, bytes) samples. */
export class RateMeter {
  readonly #windowMs: number;
  readonly #samples: { atMs: number; bytes: number }[] = [];

  constructor(windowMs = 5000) {
    this.#windowMs = windowMs;
  }

  /** Records that `bytes` (a running total) were done at `atMs`. */
  add(atMs: number, bytes: number): void {
    this.#samples.push({ atMs, bytes });
    // Keep one sample at or before the window's start so the window is always fully covered.
    while (this.#samples.length > 2 && this.#samples[1]!.atMs <= atMs - this.#windowMs) this.#samples.shift();
  }

  /** Bytes per second across the window; undefined until 250 ms have been observed. */
  rate(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last.atMs - first.atMs < 250) return undefined;
    return ((last.bytes - first.bytes) * 1000) / (last.atMs - first.atMs);
  }
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressUpdate {
  bytesSent: number;
  bytesTotal: number;
  phase?: 'uploading' | 'completing';
}

/**
 * Draws progress on a stream: on a terminal one line redrawn in place at most 10×/s; otherwise (a log
 * file, CI) a plain line at most every 2 s.
 */
export class ProgressWriter {
  readonly #stream: ProgressStream;
  readonly #label: string;
  readonly #now: () => number;
  readonly #meter = new RateMeter();
  readonly #interval: number;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #lastLine = '';
  #drawn = false;

  constructor(stream: ProgressStream, label: string, now: () => number = Date.now) {
    this.#stream = stream;
    this.#label = label;
    this.#now = now;
    this.#interval = stream.isTTY ? 100 : 2000;
  }

  update(progress: ProgressUpdate): void {
    const now = this.#now();
    this.#meter.add(now, progress.bytesSent);
    const phaseChanged = progress.phase === 'completing' && !this.#lastLine.endsWith('verifying…');
    if (now - this.#lastDraw < this.#interval && !phaseChanged) return;
    this.#lastDraw = now;
    this.#draw(this.#line(progress));
  }

  /** Ends the progress display (a terminal line gets its newline). */
  finish(): void {
    if (this.#stream.isTTY && this.#drawn) this.#stream.write('\n');
    this.#drawn = false;
  }

  #line(progress: ProgressUpdate): string {
    return formatProgress({
      label: this.#label,
      bytesDone: progress.bytesSent,
      bytesTotal: progress.bytesTotal,
      bytesPerSecond: this.#meter.rate(),
      ...(progress.phase === 'completing' ? { note: 'verifying…' } : {}),
    });
  }

  #draw(line: string): void {
    this.#lastLine = line;
    if (this.#stream.isTTY) {
      const columns = this.#stream.columns ?? 80;
      const fitted = line.length >= columns ? line.slice(0, Math.max(1, columns - 1)) : line;
      this.#stream.write(`\r${fitted}\x1b[K`);
    } else {
      this.#stream.write(`${line}\n`);
    }
    this.#drawn = true;
  }
}
