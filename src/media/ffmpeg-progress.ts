/*
 * ffmpeg's `-progress pipe:1` output, parsed. Pure: the runner feeds it stdout as it comes.
 */

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
