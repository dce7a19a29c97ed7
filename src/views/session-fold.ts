import type { BeaconEvent } from './beacon.ts';

/**
 * Folding a session's beacons into what analytics keep (pure). A session's state lives in the database
 * between batches; each batch adds to hourly sums (by the hour of each event) and may end the session's
 * startup, fail it, or carry its watched time past the view threshold (decided by view-rules.ts).
 */

/** What is kept of one playback session between its batches. */
export interface SessionState {
  /** When the server first heard of the session (its clock, ms): bounds the watched time a client may claim. */
  firstSeenAt: number | null;
  /** Time of the latest event (ms): bounds the next batch's first heartbeat. */
  lastEventAt: number | null;
  /** Play was requested (a `start` event). */
  requested: boolean;
  /** firstFrame − start, once known. */
  startupMs: number | null;
  startAt: number | null;
  /** A fatal error happened. */
  failed: boolean;
  /** Seconds played in all (heartbeats' `watched`). */
  watchedSeconds: number;
  /** A stall that started and has not ended yet. */
  stallOpenAt: number | null;
  /** 101 flags: the points at 0 %, 1 %, … 100 % of the duration this session has watched. */
  covered: boolean[];
  /** The last minute (ms, floored) this session was counted as a concurrent viewer. */
  lastActiveMinute: number | null;
}

export function newSession(): SessionState {
  return {
    firstSeenAt: null,
    lastEventAt: null,
    requested: false,
    startupMs: null,
    startAt: null,
    failed: false,
    watchedSeconds: 0,
    stallOpenAt: null,
    covered: new Array(101).fill(false),
    lastActiveMinute: null,
  };
}

/** Sums added to one hour's bucket. */
export interface HourSums {
  watchSeconds: number;
  stallSeconds: number;
  stalls: number;
  switchesAuto: number;
  switchesManual: number;
  /** Seconds watched per rendition height. */
  heightSeconds: Record<string, number>;
  /** Σ bitrate × seconds (bps·s), over heartbeats that carried a bitrate. */
  bitrateSeconds: number;
  /** Seconds with a known bitrate. */
  bitrateWatched: number;
  /** Σ max(0, playerHeight / height − 1) × seconds, and the seconds it was known for. */
  upscaleWeighted: number;
  upscaleWatched: number;
}

export function emptyHour(): HourSums {
  return {
    watchSeconds: 0,
    stallSeconds: 0,
    stalls: 0,
    switchesAuto: 0,
    switchesManual: 0,
    heightSeconds: {},
    bitrateSeconds: 0,
    bitrateWatched: 0,
    upscaleWeighted: 0,
    upscaleWatched: 0,
  };
}

/** What one batch changed. */
export interface Fold {
  state: SessionState;
  /** By hour start (ms). */
  hours: Map<number, HourSums>;
  /** Startup time measured in this batch (firstFrame − start), in ms. */
  startupMs: number | null;
  /** The session failed in this batch (first fatal error). */
  failedNow: boolean;
  /** Retention points first covered in this batch (indices 0–100). */
  newlyCovered: number[];
  /** Minutes (ms, floored) this session was first active in, for peak concurrent viewers. */
  activeMinutes: number[];
  /** Watched seconds before and after this batch (the view rule compares them). */
  watchedBefore: number;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** A heartbeat may claim the time since the previous event plus this (timer jitter). */
const WATCHED_SLACK_SECONDS = 1;
/**
 * A session may claim at most the server's time since it first heard of it plus this: a player sends
 * its first batch within a heartbeat interval (10 s) of starting. Event times are the client's word;
 * the server's clock is not, so faked timestamps cannot buy watched time.
 */
export const FIRST_BATCH_SLACK_SECONDS = 15;

export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/**
 * Applies one batch's events, in order, to a session of a video lasting `durationSeconds`, received at
 * `receivedAt` (server clock). A heartbeat's `watched` is capped by the time since the session's previous
 * event (+1 s; a session's first event has no time before it), and the session's total by the server's
 * time since it first heard of it (+FIRST_BATCH_SLACK_SECONDS).
 */
export function foldBatch(
  previous: SessionState,
  events: BeaconEvent[],
  durationSeconds: number,
  receivedAt: number,
): Fold {
  const state: SessionState = { ...previous, covered: [...previous.covered] };
  state.firstSeenAt ??= receivedAt;
  const allowedTotal = (receivedAt - state.firstSeenAt) / 1000 + FIRST_BATCH_SLACK_SECONDS;
  const fold: Fold = {
    state,
    hours: new Map(),
    startupMs: null,
    failedNow: false,
    newlyCovered: [],
    activeMinutes: [],
    watchedBefore: previous.watchedSeconds,
  };
  for (const event of events) {
    applyEvent(fold, event, durationSeconds, allowedTotal);
    state.lastEventAt = Math.max(state.lastEventAt ?? event.t, event.t);
  }
  return fold;
}

function hour(fold: Fold, t: number): HourSums {
  const key = hourOf(t);
  let sums = fold.hours.get(key);
  if (!sums) {
    sums = emptyHour();
    fold.hours.set(key, sums);
  }
  return sums;
}

function applyEvent(fold: Fold, event: BeaconEvent, durationSeconds: number, allowedTotal: number): void {
  const { state } = fold;
  switch (event.type) {
    case 'start':
      state.requested = true;
      state.startAt ??= event.t;
      return;
    case 'firstFrame':
      if (state.startupMs === null && state.startAt !== null && event.t >= state.startAt) {
        state.startupMs = event.t - state.startAt;
        fold.startupMs = state.startupMs;
      }
      return;
    case 'heartbeat':
      applyHeartbeat(fold, event, durationSeconds, allowedTotal);
      return;
    case 'stall':
      applyStall(fold, event);
      return;
    case 'rendition':
      if (event.auto) hour(fold, event.t).switchesAuto++;
      else hour(fold, event.t).switchesManual++;
      return;
    case 'error':
      if (event.fatal && !state.failed) {
        state.failed = true;
        fold.failedNow = true;
      }
      return;
    case 'seek':
    case 'end':
      return;
  }
}

function applyHeartbeat(
  fold: Fold,
  event: Extract<BeaconEvent, { type: 'heartbeat' }>,
  duration: number,
  allowedTotal: number,
) {
  const { state } = fold;
  const sinceLast = (event.t - (state.lastEventAt ?? event.t)) / 1000 + WATCHED_SLACK_SECONDS;
  const watched = Math.max(0, Math.min(event.watched, sinceLast, allowedTotal - state.watchedSeconds));
  state.watchedSeconds += watched;
  const sums = hour(fold, event.t);
  sums.watchSeconds += watched;
  if (event.height !== undefined) {
    const key = String(event.height);
    sums.heightSeconds[key] = (sums.heightSeconds[key] ?? 0) + watched;
    if (event.playerHeight !== undefined) {
      sums.upscaleWeighted += Math.max(0, event.playerHeight / event.height - 1) * watched;
      sums.upscaleWatched += watched;
    }
  }
  if (event.bitrate !== undefined) {
    sums.bitrateSeconds += event.bitrate * watched;
    sums.bitrateWatched += watched;
  }
  cover(fold, event.position - watched, event.position, duration);
  const minute = Math.floor(event.t / MINUTE_MS) * MINUTE_MS;
  if (watched > 0 && (state.lastActiveMinute === null || minute > state.lastActiveMinute)) {
    state.lastActiveMinute = minute;
    fold.activeMinutes.push(minute);
  }
}

function applyStall(fold: Fold, event: Extract<BeaconEvent, { type: 'stall' }>) {
  const { state } = fold;
  if (event.phase === 'start') {
    if (state.stallOpenAt === null) {
      state.stallOpenAt = event.t;
      hour(fold, event.t).stalls++;
    }
    return;
  }
  if (state.stallOpenAt === null) return; // an end without its start: nothing to measure
  hour(fold, event.t).stallSeconds += Math.max(0, event.t - state.stallOpenAt) / 1000;
  state.stallOpenAt = null;
}

/** Marks the retention points (each 1 % of the duration) inside [from, to] seconds. */
function cover(fold: Fold, from: number, to: number, durationSeconds: number): void {
  if (!(durationSeconds > 0) || to <= from) return;
  const first = Math.max(0, Math.ceil((from / durationSeconds) * 100 - 1e-9));
  const last = Math.min(100, Math.floor((to / durationSeconds) * 100 + 1e-9));
  for (let point = first; point <= last; point++) {
    if (fold.state.covered[point]) continue;
    fold.state.covered[point] = true;
    fold.newlyCovered.push(point);
  }
}
