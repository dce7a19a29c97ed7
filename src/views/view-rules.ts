/**
 * When a playback counts as a view (pure). The reasoning, as the README states it:
 * - watched time, not position: seeking to the end is not watching;
 * - 30 s, or half of a shorter video (a 20-s clip watched for 10 s was watched), so short and long
 *   videos are judged alike (YouTube's and PeerTube's rule of thumb);
 * - one viewer counts once per video per 30 minutes, so replaying or reloading does not inflate counts.
 */
export interface ViewRules {
  /** VIEW_MIN_SECONDS (30). */
  minSeconds: number;
  /** VIEW_MIN_FRACTION (0.5). */
  minFraction: number;
  /** VIEW_DEDUP_MINUTES (30). */
  dedupMinutes: number;
}

export const DEFAULT_VIEW_RULES: ViewRules = { minSeconds: 30, minFraction: 0.5, dedupMinutes: 30 };

/** Seconds of watching that make a view of a video lasting `durationSeconds`. */
export function viewThreshold(durationSeconds: number, rules: ViewRules): number {
  const fraction = durationSeconds > 0 ? rules.minFraction * durationSeconds : rules.minSeconds;
  return Math.min(rules.minSeconds, fraction);
}

/** Whether a session's watched time crossed the threshold in this batch (a session makes one view at most). */
export function crossedThreshold(before: number, after: number, threshold: number): boolean {
  return before < threshold && after >= threshold;
}

/** Whether a viewer whose last counted view of this video was at `lastViewAt` may count another at `now`. */
export function outsideDedupWindow(lastViewAt: number | undefined, now: number, rules: ViewRules): boolean {
  return lastViewAt === undefined || now - lastViewAt >= rules.dedupMinutes * 60_000;
}
