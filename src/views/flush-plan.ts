import type { BeaconEvent } from './beacon.ts';
import {
  emptyHour,
  foldBatch,
  type HourSums,
  hourOf,
  newSession,
  type SessionState,
} from './session-fold.ts';
import type { ClientClass } from './user-agent.ts';
import { crossedThreshold, outsideDedupWindow, type ViewRules, viewThreshold } from './view-rules.ts';

/**
 * Turning a flush's accepted batches into the rows to write (pure): session states, hourly sums, the
 * breakdowns by browser/OS/device, concurrent-viewer minutes, unique viewers and views. The I/O around
 * it (views/view-store.ts) loads what it needs and writes what it returns, in one transaction.
 */

/** A batch as the route accepted it: validated, its viewer already hashed, its client classified. */
export interface AcceptedBatch {
  videoId: string;
  sessionId: string;
  viewerHash: string;
  seq: number;
  events: BeaconEvent[];
  client: ClientClass;
  /** Server clock, ms. */
  receivedAt: number;
  durationSeconds: number;
  /** The video's owner (an API key id), for the owner's rollup; null for videos without one. */
  ownerKeyId: string | null;
}

/**
 * Buckets are also kept summed over every video ('*') and over each owner's videos ('@<key id>'), in the
 * same tables under those names (real video ids are 12 letters and digits): statistics across videos read
 * one row per hour instead of one per video and hour.
 */
export const ALL_VIDEOS = '*';
export const ownerRollup = (ownerKeyId: string) => `@${ownerKeyId}`;
/** A real video's rows, not a rollup's. */
export const isVideoId = (id: string) => id !== ALL_VIDEOS && !id.startsWith('@');

function scopesOf(videoId: string, ownerKeyId: string | null): string[] {
  return ownerKeyId ? [videoId, ALL_VIDEOS, ownerRollup(ownerKeyId)] : [videoId, ALL_VIDEOS];
}

/** A session as stored. */
export interface StoredSession {
  id: string;
  videoId: string;
  viewerHash: string;
  client: ClientClass;
  startedHour: number;
  state: SessionState;
  viewCounted: boolean;
}

/** One video-hour's additions. */
export interface HourRow extends HourSums {
  videoId: string;
  hour: number;
  sessions: number;
  views: number;
  startups: number;
  /** Startup times by histogram bin (ms lower bound, as text). */
  startupHistogram: Record<string, number>;
  failures: number;
  retention: number[];
}

export interface DimensionRow {
  videoId: string;
  hour: number;
  dimension: 'browser' | 'os' | 'device';
  value: string;
  sessions: number;
  views: number;
  watchSeconds: number;
  stallSeconds: number;
  failures: number;
}

export interface FlushPlan {
  sessions: StoredSession[];
  hours: HourRow[];
  dimensions: DimensionRow[];
  /** Concurrent viewers to add per video-minute. */
  minutes: Array<{ videoId: string; minute: number; viewers: number }>;
  /** Viewers whose view counted now: their dedup window starts at `at`. */
  lastViews: Array<{ videoId: string; viewerHash: string; at: number }>;
  uniques: Array<{ videoId: string; hour: number; viewerHash: string }>;
  /** Views added per video (videos.views). */
  viewsByVideo: Map<string, number>;
}

/** The startup histogram's bin lower bounds (ms): 50-ms steps to 1 s, 250-ms to 5 s, then 1 s to 30 s. */
export const STARTUP_BINS: readonly number[] = [
  ...Array.from({ length: 20 }, (_, i) => i * 50),
  ...Array.from({ length: 16 }, (_, i) => 1000 + i * 250),
  ...Array.from({ length: 26 }, (_, i) => 5000 + i * 1000),
];

export function startupBin(ms: number): number {
  let bin = 0;
  for (const bound of STARTUP_BINS) if (ms >= bound) bin = bound;
  return bin;
}

/**
 * Folds every accepted batch (already de-duplicated by session + seq) into its session, in seq order,
 * then decides views: a session counts once, when its watched time crosses the threshold, unless its
 * viewer's last counted view of the video is inside the dedup window (`lastViewAt`, loaded by the caller
 * for `viewCandidates`).
 */
export function planFlush(
  batches: readonly AcceptedBatch[],
  stored: ReadonlyMap<string, StoredSession>,
  lastViewAt: ReadonlyMap<string, number>,
  rules: ViewRules,
): FlushPlan {
  const builder = new PlanBuilder(lastViewAt, rules);
  const bySession = new Map<string, AcceptedBatch[]>();
  for (const batch of batches) {
    const list = bySession.get(batch.sessionId) ?? [];
    list.push(batch);
    bySession.set(batch.sessionId, list);
  }
  for (const [id, list] of [...bySession].sort(([a], [b]) => (a < b ? -1 : 1))) {
    list.sort((a, b) => a.seq - b.seq);
    builder.session(stored.get(id), list);
  }
  return builder.plan();
}

/** The (video, viewer) pairs whose sessions may cross the view threshold in this flush. */
export function viewCandidates(
  batches: readonly AcceptedBatch[],
  stored: ReadonlyMap<string, StoredSession>,
): Array<{ videoId: string; viewerHash: string }> {
  const pairs = new Map<string, { videoId: string; viewerHash: string }>();
  for (const batch of batches) {
    const session = stored.get(batch.sessionId);
    if (session?.viewCounted) continue;
    const viewerHash = session?.viewerHash ?? batch.viewerHash;
    pairs.set(viewerKey(batch.videoId, viewerHash), { videoId: batch.videoId, viewerHash });
  }
  return [...pairs.values()];
}

/** Batches of one session together, in seq order. */
export function bySessionAndSeq(a: AcceptedBatch, b: AcceptedBatch): number {
  return a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : a.seq - b.seq;
}

/** A batch's identity: a replay has the same one. */
export function batchKey(batch: Pick<AcceptedBatch, 'sessionId' | 'seq'>): string {
  return `${batch.sessionId}\u0000${batch.seq}`;
}

export function viewerKey(videoId: string, viewerHash: string): string {
  return `${videoId}\u0000${viewerHash}`;
}

class PlanBuilder {
  readonly #lastViewAt: Map<string, number>;
  readonly #rules: ViewRules;
  readonly #sessions: StoredSession[] = [];
  readonly #hours = new Map<string, HourRow>();
  readonly #dimensions = new Map<string, DimensionRow>();
  readonly #minutes = new Map<string, { videoId: string; minute: number; viewers: number }>();
  readonly #lastViews: FlushPlan['lastViews'] = [];
  readonly #uniques = new Map<string, { videoId: string; hour: number; viewerHash: string }>();
  readonly #viewsByVideo = new Map<string, number>();

  constructor(lastViewAt: ReadonlyMap<string, number>, rules: ViewRules) {
    this.#lastViewAt = new Map(lastViewAt);
    this.#rules = rules;
  }

  session(existing: StoredSession | undefined, batches: AcceptedBatch[]): void {
    const first = batches[0]!;
    const session: StoredSession = existing
      ? { ...existing }
      : {
          id: first.sessionId,
          videoId: first.videoId,
          viewerHash: first.viewerHash,
          client: first.client,
          startedHour: hourOf(first.events[0]!.t),
          state: newSession(),
          viewCounted: false,
        };
    if (!existing) this.#sessionCounts(session, first, { sessions: 1 });
    for (const batch of batches) this.#batch(session, batch);
    this.#sessions.push(session);
  }

  #batch(session: StoredSession, batch: AcceptedBatch): void {
    const fold = foldBatch(session.state, batch.events, batch.durationSeconds, batch.receivedAt);
    session.state = fold.state;
    const scopes = scopesOf(session.videoId, batch.ownerKeyId);
    for (const [hour, sums] of fold.hours) {
      for (const scope of scopes) addSums(this.#hour(scope, hour), sums);
      this.#dims(session, scopes, hour, { watchSeconds: sums.watchSeconds, stallSeconds: sums.stallSeconds });
      this.#uniques.set(`${session.videoId}\u0000${hour}\u0000${session.viewerHash}`, {
        videoId: session.videoId,
        hour,
        viewerHash: session.viewerHash,
      });
    }
    if (fold.startupMs !== null) {
      const bin = String(startupBin(fold.startupMs));
      for (const scope of scopes) {
        const row = this.#hour(scope, session.startedHour);
        row.startups++;
        row.startupHistogram[bin] = (row.startupHistogram[bin] ?? 0) + 1;
      }
    }
    if (fold.failedNow) this.#sessionCounts(session, batch, { failures: 1 });
    if (fold.newlyCovered.length > 0) {
      const retention = this.#hour(session.videoId, session.startedHour).retention;
      for (const point of fold.newlyCovered) retention[point]!++;
    }
    for (const minute of fold.activeMinutes) {
      for (const scope of scopes) {
        const key = `${scope}\u0000${minute}`;
        const entry = this.#minutes.get(key) ?? { videoId: scope, minute, viewers: 0 };
        entry.viewers++;
        this.#minutes.set(key, entry);
      }
    }
    this.#maybeView(session, fold.watchedBefore, batch);
  }

  #maybeView(session: StoredSession, before: number, batch: AcceptedBatch): void {
    if (session.viewCounted) return;
    const threshold = viewThreshold(batch.durationSeconds, this.#rules);
    if (!crossedThreshold(before, session.state.watchedSeconds, threshold)) return;
    session.viewCounted = true; // decided: counted, or a repeat inside the dedup window
    const key = viewerKey(session.videoId, session.viewerHash);
    if (!outsideDedupWindow(this.#lastViewAt.get(key), batch.receivedAt, this.#rules)) return;
    this.#lastViewAt.set(key, batch.receivedAt);
    this.#lastViews.push({ videoId: session.videoId, viewerHash: session.viewerHash, at: batch.receivedAt });
    const hour = hourOf(batch.receivedAt);
    const scopes = scopesOf(session.videoId, batch.ownerKeyId);
    for (const scope of scopes) this.#hour(scope, hour).views++;
    this.#dims(session, scopes, hour, { views: 1 });
    this.#viewsByVideo.set(session.videoId, (this.#viewsByVideo.get(session.videoId) ?? 0) + 1);
  }

  /** Session-level counts go to the hour the session started in. */
  #sessionCounts(
    session: StoredSession,
    batch: AcceptedBatch,
    counts: { sessions?: number; failures?: number },
  ): void {
    const scopes = scopesOf(session.videoId, batch.ownerKeyId);
    for (const scope of scopes) {
      const row = this.#hour(scope, session.startedHour);
      row.sessions += counts.sessions ?? 0;
      row.failures += counts.failures ?? 0;
    }
    this.#dims(session, scopes, session.startedHour, counts);
  }

  #hour(videoId: string, hour: number): HourRow {
    const key = `${videoId}\u0000${hour}`;
    let row = this.#hours.get(key);
    if (!row) {
      row = {
        ...emptyHour(),
        videoId,
        hour,
        sessions: 0,
        views: 0,
        startups: 0,
        startupHistogram: {},
        failures: 0,
        retention: new Array(101).fill(0),
      };
      this.#hours.set(key, row);
    }
    return row;
  }

  #dims(
    session: StoredSession,
    scopes: readonly string[],
    hour: number,
    add: Partial<Omit<DimensionRow, 'videoId' | 'hour' | 'dimension' | 'value'>>,
  ) {
    for (const scope of scopes) this.#dimsOf(scope, session, hour, add);
  }

  #dimsOf(
    videoId: string,
    session: StoredSession,
    hour: number,
    add: Partial<Omit<DimensionRow, 'videoId' | 'hour' | 'dimension' | 'value'>>,
  ) {
    for (const dimension of ['browser', 'os', 'device'] as const) {
      const value = session.client[dimension];
      const key = `${videoId}\u0000${hour}\u0000${dimension}\u0000${value}`;
      let row = this.#dimensions.get(key);
      if (!row) {
        row = {
          videoId,
          hour,
          dimension,
          value,
          sessions: 0,
          views: 0,
          watchSeconds: 0,
          stallSeconds: 0,
          failures: 0,
        };
        this.#dimensions.set(key, row);
      }
      row.sessions += add.sessions ?? 0;
      row.views += add.views ?? 0;
      row.watchSeconds += add.watchSeconds ?? 0;
      row.stallSeconds += add.stallSeconds ?? 0;
      row.failures += add.failures ?? 0;
    }
  }

  plan(): FlushPlan {
    return {
      sessions: this.#sessions,
      hours: [...this.#hours.values()],
      dimensions: [...this.#dimensions.values()],
      minutes: [...this.#minutes.values()],
      lastViews: this.#lastViews,
      uniques: [...this.#uniques.values()],
      viewsByVideo: this.#viewsByVideo,
    };
  }
}

function addSums(target: HourSums, add: HourSums): void {
  target.watchSeconds += add.watchSeconds;
  target.stallSeconds += add.stallSeconds;
  target.stalls += add.stalls;
  target.switchesAuto += add.switchesAuto;
  target.switchesManual += add.switchesManual;
  target.bitrateSeconds += add.bitrateSeconds;
  target.bitrateWatched += add.bitrateWatched;
  target.upscaleWeighted += add.upscaleWeighted;
  target.upscaleWatched += add.upscaleWatched;
  for (const [height, seconds] of Object.entries(add.heightSeconds)) {
    target.heightSeconds[height] = (target.heightSeconds[height] ?? 0) + seconds;
  }
}
