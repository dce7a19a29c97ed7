import { sql } from 'kysely';
import type { Db } from '../platform/db/database.ts';
import { ALL_VIDEOS } from './flush-plan.ts';
import { forgetOldSalts } from './viewer-salt.ts';

/** A session silent this long is over: if it asked to play and never showed a frame nor failed, its viewer left before the start. */
const SESSION_IDLE = '5 minutes';

/** Ends idle sessions, counting "exits before video start" in the hour each session started. */
export async function finalizeIdleSessions(db: Db): Promise<void> {
  await sql`
    with done as (
      update playback_sessions set finalized = true
      where not finalized and updated_at < now() - ${SESSION_IDLE}::interval
      returning video_id, started_hour, state),
    exits as (
      select d.video_id, d.started_hour as hour, v.owner_key_id from done d left join videos v on v.id = d.video_id
      where (d.state->>'requested')::boolean and d.state->>'startupMs' is null and not (d.state->>'failed')::boolean),
    scoped as (
      select video_id as scope, hour from exits
      union all select ${ALL_VIDEOS}, hour from exits
      union all select '@' || owner_key_id, hour from exits where owner_key_id is not null)
    insert into view_hourly as h (video_id, hour, exits_before_start)
    select scope, hour, count(*)::int from scoped group by 1, 2 order by 1, 2
    on conflict (video_id, hour) do update set exits_before_start = h.exits_before_start + excluded.exits_before_start`.execute(
    db,
  );
}

/**
 * Forgets what is only needed for a while: batch records (a batch older than 24 h is refused anyway),
 * sessions idle for a day, dedup windows, per-minute viewer counts (their hour's peak is kept), old salts.
 */
export async function pruneViewState(db: Db, nowMs: number, dedupMinutes: number): Promise<void> {
  await sql`delete from playback_batches where received_at < now() - interval '25 hours'`.execute(db);
  await sql`delete from playback_sessions where finalized and updated_at < now() - interval '25 hours'`.execute(
    db,
  );
  await sql`delete from viewer_last_views where last_view_at < now() - ${`${dedupMinutes + 1} minutes`}::interval`.execute(
    db,
  );
  await sql`delete from view_minutes where minute < now() - interval '2 hours'`.execute(db);
  await forgetOldSalts(db, nowMs);
}

/** `trending` sorts by views of the last 48 hours: refreshed from the hourly buckets. */
export async function refreshRecentViews(db: Db): Promise<void> {
  await sql`
    with recent as (
      select h.video_id, sum(h.views)::bigint as n from view_hourly h join videos on videos.id = h.video_id
      where h.hour >= now() - interval '48 hours' group by 1)
    update videos v set views_recent = coalesce(r.n, 0)
    from videos v2 left join recent r on r.video_id = v2.id
    where v.id = v2.id and (v2.views_recent <> 0 or r.n is not null) and v.views_recent is distinct from coalesce(r.n, 0)`.execute(
    db,
  );
}
