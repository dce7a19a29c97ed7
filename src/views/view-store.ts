import { sql } from 'kysely';
import type { Tx } from '../platform/db/database.ts';
import type { AcceptedBatch, FlushPlan, StoredSession } from './flush-plan.ts';
import { batchKey, bySessionAndSeq, isVideoId, viewerKey } from './flush-plan.ts';
import type { SessionState } from './session-fold.ts';
import type { ClientClass } from './user-agent.ts';

/**
 * The SQL of a flush, each step one statement over arrays (unnest), rows in key order so two nodes
 * flushing at once take their locks in the same order.
 */

const ts = (ms: number) => ms / 1000;

/** Records the batches' (session, seq); returns the ones not recorded before (a replay is dropped here). */
export async function claimBatches(tx: Tx, batches: readonly AcceptedBatch[]): Promise<AcceptedBatch[]> {
  if (batches.length === 0) return [];
  const sorted = [...batches].sort(bySessionAndSeq);
  const claimed = await sql<{ session_id: string; seq: number }>`
    insert into playback_batches (session_id, seq, received_at)
    select s, q, to_timestamp(r) from unnest(${sorted.map((b) => b.sessionId)}::text[],
      ${sorted.map((b) => b.seq)}::int[], ${sorted.map((b) => ts(b.receivedAt))}::float8[]) as t(s, q, r)
    on conflict do nothing
    returning session_id, seq`.execute(tx);
  const fresh = new Set(claimed.rows.map((row) => batchKey({ sessionId: row.session_id, seq: row.seq })));
  return sorted.filter((batch) => fresh.delete(batchKey(batch)));
}

interface SessionRow {
  id: string;
  video_id: string;
  viewer_hash: string;
  browser: string;
  os: string;
  device: string;
  started_hour: Date;
  state: SessionState;
  view_counted: boolean;
}

/** The stored sessions among `ids`, locked until the flush commits. */
export async function lockSessions(tx: Tx, ids: readonly string[]): Promise<Map<string, StoredSession>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<SessionRow>`
    select id, video_id, viewer_hash, browser, os, device, started_hour, state, view_counted
    from playback_sessions where id = any(${[...ids].sort()}::text[]) order by id for update`.execute(tx);
  return new Map(
    rows.rows.map((row) => [
      row.id,
      {
        id: row.id,
        videoId: row.video_id,
        viewerHash: row.viewer_hash,
        client: { browser: row.browser, os: row.os, device: row.device } as ClientClass,
        startedHour: row.started_hour.getTime(),
        state: row.state,
        viewCounted: row.view_counted,
      },
    ]),
  );
}

/** When each (video, viewer) last counted a view, keyed by viewerKey. */
export async function lastViews(
  tx: Tx,
  pairs: ReadonlyArray<{ videoId: string; viewerHash: string }>,
): Promise<Map<string, number>> {
  if (pairs.length === 0) return new Map();
  const rows = await sql<{ video_id: string; viewer_hash: string; last_view_at: Date }>`
    select l.video_id, l.viewer_hash, l.last_view_at from viewer_last_views l
    join unnest(${pairs.map((p) => p.videoId)}::text[], ${pairs.map((p) => p.viewerHash)}::text[]) as t(v, x)
      on l.video_id = t.v and l.viewer_hash = t.x`.execute(tx);
  return new Map(
    rows.rows.map((row) => [viewerKey(row.video_id, row.viewer_hash), row.last_view_at.getTime()]),
  );
}

/** Writes a plan: sessions, hourly sums, breakdowns, minutes and peaks, dedup windows, video counts. */
export async function writePlan(tx: Tx, plan: FlushPlan, nowMs: number): Promise<void> {
  await writeSessions(tx, plan.sessions, nowMs);
  await writeHours(tx, plan);
  await writeDays(tx, plan);
  await writeDimensions(tx, plan);
  await writeMinutes(tx, plan);
  if (plan.lastViews.length > 0) {
    await sql`
      insert into viewer_last_views (video_id, viewer_hash, last_view_at)
      select v, x, to_timestamp(a) from unnest(${plan.lastViews.map((l) => l.videoId)}::text[],
        ${plan.lastViews.map((l) => l.viewerHash)}::text[], ${plan.lastViews.map((l) => ts(l.at))}::float8[]) as t(v, x, a)
      order by v, x
      on conflict (video_id, viewer_hash) do update set last_view_at = greatest(viewer_last_views.last_view_at, excluded.last_view_at)`.execute(
      tx,
    );
  }
  const counted = [...plan.viewsByVideo].sort(([a], [b]) => (a < b ? -1 : 1));
  if (counted.length > 0) {
    await sql`
      update videos set views = views + t.n
      from unnest(${counted.map(([id]) => id)}::text[], ${counted.map(([, n]) => n)}::int[]) as t(id, n)
      where videos.id = t.id`.execute(tx);
  }
}

async function writeSessions(tx: Tx, sessions: readonly StoredSession[], nowMs: number): Promise<void> {
  if (sessions.length === 0) return;
  const s = [...sessions].sort((a, b) => (a.id < b.id ? -1 : 1));
  await sql`
    insert into playback_sessions (id, video_id, viewer_hash, browser, os, device, started_hour, state, view_counted, updated_at)
    select id, v, x, b, o, d, to_timestamp(h), st::jsonb, vc, to_timestamp(${ts(nowMs)})
    from unnest(${s.map((x) => x.id)}::text[], ${s.map((x) => x.videoId)}::text[], ${s.map((x) => x.viewerHash)}::text[],
      ${s.map((x) => x.client.browser)}::text[], ${s.map((x) => x.client.os)}::text[], ${s.map((x) => x.client.device)}::text[],
      ${s.map((x) => ts(x.startedHour))}::float8[], ${s.map((x) => JSON.stringify(x.state))}::text[],
      ${s.map((x) => x.viewCounted)}::boolean[]) as t(id, v, x, b, o, d, h, st, vc)
    on conflict (id) do update set state = excluded.state, view_counted = excluded.view_counted,
      updated_at = excluded.updated_at, finalized = false`.execute(tx);
}

async function writeHours(tx: Tx, plan: FlushPlan): Promise<void> {
  if (plan.hours.length === 0) return;
  const h = [...plan.hours].sort((a, b) =>
    a.videoId < b.videoId ? -1 : a.videoId > b.videoId ? 1 : a.hour - b.hour,
  );
  const col = <T>(pick: (row: (typeof h)[number]) => T) => h.map(pick);
  await sql`
    insert into view_hourly as b (video_id, hour, sessions, views, watch_seconds, stall_seconds, stalls, switches_auto,
      switches_manual, startups, startup_histogram, failures, height_seconds, bitrate_seconds, bitrate_watched,
      upscale_weighted, upscale_watched, retention)
    select v, to_timestamp(hr), se, vw, ws, ss, st, sa, sm, su, sh::jsonb, fa, hs::jsonb, bs, bw, uw, uwa, re::int[]
    from unnest(${col((r) => r.videoId)}::text[], ${col((r) => ts(r.hour))}::float8[], ${col((r) => r.sessions)}::int[],
      ${col((r) => r.views)}::int[], ${col((r) => r.watchSeconds)}::float8[], ${col((r) => r.stallSeconds)}::float8[],
      ${col((r) => r.stalls)}::int[], ${col((r) => r.switchesAuto)}::int[], ${col((r) => r.switchesManual)}::int[],
      ${col((r) => r.startups)}::int[], ${col((r) => JSON.stringify(r.startupHistogram))}::text[], ${col((r) => r.failures)}::int[],
      ${col((r) => JSON.stringify(r.heightSeconds))}::text[], ${col((r) => r.bitrateSeconds)}::float8[],
      ${col((r) => r.bitrateWatched)}::float8[], ${col((r) => r.upscaleWeighted)}::float8[], ${col((r) => r.upscaleWatched)}::float8[],
      ${col((r) => `{${r.retention.join(',')}}`)}::text[])
      as t(v, hr, se, vw, ws, ss, st, sa, sm, su, sh, fa, hs, bs, bw, uw, uwa, re)
    on conflict (video_id, hour) do update set
      sessions = b.sessions + excluded.sessions, views = b.views + excluded.views,
      watch_seconds = b.watch_seconds + excluded.watch_seconds, stall_seconds = b.stall_seconds + excluded.stall_seconds,
      stalls = b.stalls + excluded.stalls, switches_auto = b.switches_auto + excluded.switches_auto,
      switches_manual = b.switches_manual + excluded.switches_manual, startups = b.startups + excluded.startups,
      startup_histogram = reel_jsonb_sum(b.startup_histogram, excluded.startup_histogram),
      failures = b.failures + excluded.failures,
      height_seconds = reel_jsonb_sum(b.height_seconds, excluded.height_seconds),
      bitrate_seconds = b.bitrate_seconds + excluded.bitrate_seconds, bitrate_watched = b.bitrate_watched + excluded.bitrate_watched,
      upscale_weighted = b.upscale_weighted + excluded.upscale_weighted, upscale_watched = b.upscale_watched + excluded.upscale_watched,
      retention = reel_array_sum(b.retention, excluded.retention)`.execute(tx);
}

/** Each real video's daily sums (rankings across videos read them). */
async function writeDays(tx: Tx, plan: FlushPlan): Promise<void> {
  const h = plan.hours.filter((row) => isVideoId(row.videoId));
  if (h.length === 0) return;
  await sql`
    insert into view_daily as d (video_id, day, views, watch_seconds, stall_seconds)
    select v, date_trunc('day', to_timestamp(hr), 'UTC'), sum(vw)::int, sum(ws), sum(ss)
    from unnest(${h.map((r) => r.videoId)}::text[], ${h.map((r) => ts(r.hour))}::float8[], ${h.map((r) => r.views)}::int[],
      ${h.map((r) => r.watchSeconds)}::float8[], ${h.map((r) => r.stallSeconds)}::float8[]) as t(v, hr, vw, ws, ss)
    group by 1, 2 order by 1, 2
    on conflict (video_id, day) do update set views = d.views + excluded.views,
      watch_seconds = d.watch_seconds + excluded.watch_seconds, stall_seconds = d.stall_seconds + excluded.stall_seconds`.execute(
    tx,
  );
}

async function writeDimensions(tx: Tx, plan: FlushPlan): Promise<void> {
  if (plan.dimensions.length === 0) return;
  const d = [...plan.dimensions].sort((a, b) =>
    `${a.videoId}\u0000${a.hour}\u0000${a.dimension}\u0000${a.value}` <
    `${b.videoId}\u0000${b.hour}\u0000${b.dimension}\u0000${b.value}`
      ? -1
      : 1,
  );
  await sql`
    insert into view_hourly_dims as b (video_id, hour, dimension, value, sessions, views, watch_seconds, stall_seconds, failures)
    select v, to_timestamp(hr), di, va, se, vw, ws, ss, fa
    from unnest(${d.map((r) => r.videoId)}::text[], ${d.map((r) => ts(r.hour))}::float8[], ${d.map((r) => r.dimension)}::text[],
      ${d.map((r) => r.value)}::text[], ${d.map((r) => r.sessions)}::int[], ${d.map((r) => r.views)}::int[],
      ${d.map((r) => r.watchSeconds)}::float8[], ${d.map((r) => r.stallSeconds)}::float8[], ${d.map((r) => r.failures)}::int[])
      as t(v, hr, di, va, se, vw, ws, ss, fa)
    on conflict (video_id, hour, dimension, value) do update set
      sessions = b.sessions + excluded.sessions, views = b.views + excluded.views,
      watch_seconds = b.watch_seconds + excluded.watch_seconds, stall_seconds = b.stall_seconds + excluded.stall_seconds,
      failures = b.failures + excluded.failures`.execute(tx);
}

/** Concurrent viewers per minute, and each hour's peak of them. */
async function writeMinutes(tx: Tx, plan: FlushPlan): Promise<void> {
  if (plan.minutes.length === 0) return;
  const m = [...plan.minutes].sort((a, b) =>
    a.videoId < b.videoId ? -1 : a.videoId > b.videoId ? 1 : a.minute - b.minute,
  );
  await sql`
    with counted as (
      insert into view_minutes as b (video_id, minute, viewers)
      select v, to_timestamp(mi), n from unnest(${m.map((r) => r.videoId)}::text[], ${m.map((r) => ts(r.minute))}::float8[],
        ${m.map((r) => r.viewers)}::int[]) as t(v, mi, n)
      on conflict (video_id, minute) do update set viewers = b.viewers + excluded.viewers
      returning video_id, minute, viewers)
    insert into view_hourly as h (video_id, hour, peak_concurrent)
    select video_id, date_trunc('hour', minute, 'UTC'), max(viewers) from counted group by 1, 2 order by 1, 2
    on conflict (video_id, hour) do update set peak_concurrent = greatest(h.peak_concurrent, excluded.peak_concurrent)`.execute(
    tx,
  );
}
