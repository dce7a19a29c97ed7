import { STARTUP_BINS } from './flush-plan.ts';

/**
 * Quality-of-experience figures from summed buckets (pure), with Mux Data's definitions:
 * startup time = play requested → first frame; playback failure % = sessions with a fatal error /
 * sessions; exits before start % = sessions that asked to play and left before a frame, without an
 * error; rebuffer % = stalled / (watched + stalled); rebuffer frequency = stalls per minute watched;
 * average rendition height and bitrate weighted by time watched; upscale % = time-weighted average of
 * how much the player enlarged the rendition (player height / rendition height − 1).
 */
export interface Sums {
  sessions: number;
  views: number;
  watchSeconds: number;
  stallSeconds: number;
  stalls: number;
  switchesAuto: number;
  switchesManual: number;
  failures: number;
  exitsBeforeStart: number;
  bitrateSeconds: number;
  bitrateWatched: number;
  upscaleWeighted: number;
  upscaleWatched: number;
  peakConcurrent: number;
  /** Startup times by bin lower bound (ms). */
  startupHistogram: Record<string, number>;
  /** Seconds watched per rendition height. */
  heightSeconds: Record<string, number>;
}

export interface Figures {
  views: number;
  uniqueViewers: number;
  sessions: number;
  watchTimeSeconds: number;
  averageWatchSeconds: number | null;
  startupTimeP50Ms: number | null;
  startupTimeP95Ms: number | null;
  playbackFailurePercent: number | null;
  exitsBeforeStartPercent: number | null;
  rebufferPercent: number | null;
  rebufferPerMinute: number | null;
  /** Rendition changes per minute watched: decided by the player's ABR, and chosen by the viewer. */
  autoSwitchesPerMinute: number | null;
  manualSwitchesPerMinute: number | null;
  averageHeight: number | null;
  averageBitrate: number | null;
  upscalePercent: number | null;
  peakConcurrentViewers: number;
}

export function emptySums(): Sums {
  return {
    sessions: 0,
    views: 0,
    watchSeconds: 0,
    stallSeconds: 0,
    stalls: 0,
    switchesAuto: 0,
    switchesManual: 0,
    failures: 0,
    exitsBeforeStart: 0,
    bitrateSeconds: 0,
    bitrateWatched: 0,
    upscaleWeighted: 0,
    upscaleWatched: 0,
    peakConcurrent: 0,
    startupHistogram: {},
    heightSeconds: {},
  };
}

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);
const percent = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : null);

export function figuresOf(sums: Sums, uniqueViewers: number): Figures {
  const watchedMinutes = sums.watchSeconds / 60;
  const heights = Object.entries(sums.heightSeconds);
  const heightWatched = heights.reduce((total, [, seconds]) => total + seconds, 0);
  return {
    views: sums.views,
    uniqueViewers,
    sessions: sums.sessions,
    watchTimeSeconds: sums.watchSeconds,
    averageWatchSeconds: ratio(sums.watchSeconds, sums.sessions),
    startupTimeP50Ms: histogramQuantile(sums.startupHistogram, 0.5),
    startupTimeP95Ms: histogramQuantile(sums.startupHistogram, 0.95),
    playbackFailurePercent: percent(sums.failures, sums.sessions),
    exitsBeforeStartPercent: percent(sums.exitsBeforeStart, sums.sessions),
    rebufferPercent: percent(sums.stallSeconds, sums.watchSeconds + sums.stallSeconds),
    rebufferPerMinute: ratio(sums.stalls, watchedMinutes),
    autoSwitchesPerMinute: ratio(sums.switchesAuto, watchedMinutes),
    manualSwitchesPerMinute: ratio(sums.switchesManual, watchedMinutes),
    averageHeight: ratio(
      heights.reduce((total, [height, seconds]) => total + Number(height) * seconds, 0),
      heightWatched,
    ),
    averageBitrate: ratio(sums.bitrateSeconds, sums.bitrateWatched),
    upscalePercent: percent(sums.upscaleWeighted, sums.upscaleWatched),
    peakConcurrentViewers: sums.peakConcurrent,
  };
}

/**
 * The q-quantile of a histogram keyed by bin lower bound, interpolated linearly inside its bin (as
 * Prometheus' histogram_quantile does): exact at bin edges, within one bin width (50 ms below 1 s) elsewhere.
 */
export function histogramQuantile(histogram: Record<string, number>, q: number): number | null {
  const bins = Object.entries(histogram)
    .map(([bound, count]) => [Number(bound), count] as const)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a - b);
  const total = bins.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (const [bound, count] of bins) {
    if (below + count >= rank) {
      const next = STARTUP_BINS.find((edge) => edge > bound);
      const width = next === undefined ? 0 : next - bound;
      return bound + (width * (rank - below)) / count;
    }
    below += count;
  }
  return bins.at(-1)![0];
}

/** Adds `add` into `into` (histograms and heights key by key). */
export function addSums(into: Sums, add: Sums): void {
  for (const key of Object.keys(into) as Array<keyof Sums>) {
    if (key === 'startupHistogram' || key === 'heightSeconds') {
      for (const [bin, n] of Object.entries(add[key])) into[key][bin] = (into[key][bin] ?? 0) + n;
    } else if (key === 'peakConcurrent') {
      into.peakConcurrent = Math.max(into.peakConcurrent, add.peakConcurrent);
    } else {
      into[key] += add[key];
    }
  }
}

/** The retention curve: for each 1 % of the duration, the share of sessions that watched it (0–1). */
export function retentionCurve(covered: readonly number[], sessions: number): number[] {
  return Array.from({ length: 101 }, (_, i) =>
    sessions > 0 ? Math.min(1, (covered[i] ?? 0) / sessions) : 0,
  );
}

const CSV_FIELDS: Array<keyof Figures> = [
  'views',
  'uniqueViewers',
  'sessions',
  'watchTimeSeconds',
  'averageWatchSeconds',
  'startupTimeP50Ms',
  'startupTimeP95Ms',
  'playbackFailurePercent',
  'exitsBeforeStartPercent',
  'rebufferPercent',
  'rebufferPerMinute',
  'autoSwitchesPerMinute',
  'manualSwitchesPerMinute',
  'averageHeight',
  'averageBitrate',
  'upscalePercent',
  'peakConcurrentViewers',
];

/** The series as CSV: one line per bucket, `start` first, empty cells for undefined figures. */
export function seriesCsv(series: ReadonlyArray<{ start: string } & Figures>): string {
  const lines = [['start', ...CSV_FIELDS].join(',')];
  for (const row of series) lines.push([row.start, ...CSV_FIELDS.map((field) => row[field] ?? '')].join(','));
  return `${lines.join('\n')}\n`;
}
