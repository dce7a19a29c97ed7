import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../platform/db/database.ts';
import { ALL_VIDEOS, ownerRollup } from './flush-plan.ts';
import { emptySums, type Sums } from './stats.ts';

/**
 * Reading the hourly buckets back, summed in SQL (one row per bucket of the series; histograms and
 * rendition heights summed key by key), so a 90-day range is a few thousand rows read by index, not
 * sessions replayed.
 */

/** Which videos a statistic covers: one, a key's own, or all. */
export type StatsScope = { videoId: string } | { ownerKeyId: string } | { all: true };

export interface StatsRange {
  from: number;
  to: number;
  granularity: 'hour' | 'day';
}

/** The bucket rows of a scope: the video's own, or the rollup the flush keeps for an owner or for all. */
function scopeSql(scope: StatsScope): RawBuilder<unknown> {
  if ('videoId' in scope) return sql`video_id = ${scope.videoId}`;
  if ('ownerKeyId' in scope) return sql`video_id = ${ownerRollup(scope.ownerKeyId)}`;
  return sql`video_id = ${ALL_VIDEOS}`;
}

/** The bucket rows of real videos (not rollups) in a scope, for per-video rankings. */
function videoRowsOfScope(scope: StatsScope): RawBuilder<unknown> {
  if ('videoId' in scope) return sql`video_id = ${scope.videoId}`;
  if ('ownerKeyId' in scope) {
    return sql`video_id in (select id from videos where owner_key_id = ${scope.ownerKeyId})`;
  }
  return sql`video_id <> ${ALL_VIDEOS} and video_id not like '@%'`;
}

const DAY = 86_400_000;

/** Per-video sums over a range: its whole UTC days from the daily table, the hours of its partial days from the hourly one. */
function rangeTotals(scope: StatsScope, range: StatsRange): RawBuilder<unknown> {
  const firstDay = Math.ceil(range.from / DAY) * DAY;
  const endDay = Math.floor(range.to / DAY) * DAY;
  const hours = (from: number, to: number) => sql`
    select video_id, views, watch_seconds as watch, stall_seconds as stall from view_hourly
    where ${videoRowsOfScope(scope)} and ${rangeSql({ ...range, from, to })}`;
  if (firstDay >= endDay) return hours(range.from, range.to);
  return sql`
    select video_id, views, watch_seconds as watch, stall_seconds as stall from view_daily
    where ${videoRowsOfScope(scope)} and day >= to_timestamp(${firstDay / 1000}) and day < to_timestamp(${endDay / 1000})
    union all ${hours(range.from, firstDay)}
    union all ${hours(endDay, range.to)}`;
}

function rangeSql(range: StatsRange): RawBuilder<unknown> {
  return sql`hour >= to_timestamp(${range.from / 1000}) and hour < to_timestamp(${range.to / 1000})`;
}

interface BucketRow {
  start: Date;
  sessions: number;
  views: number;
  watch: number;
  stall: number;
  stalls: number;
  switches_auto: number;
  switches_manual: number;
  failures: number;
  exits: number;
  bitrate_seconds: number;
  bitrate_watched: number;
  upscale_weighted: number;
  upscale_watched: number;
  peak: number;
}

/** The summed buckets of the series, by bucket start (ms). */
export async function bucketSums(db: Db, scope: StatsScope, range: StatsRange): Promise<Map<number, Sums>> {
  const where = sql`${scopeSql(scope)} and ${rangeSql(range)}`;
  const bucket = sql`date_trunc(${range.granularity}, hour, 'UTC')`;
  const rows = await sql<BucketRow>`
    select ${bucket} as start, sum(sessions)::int as sessions, sum(views)::int as views,
      sum(watch_seconds)::float8 as watch, sum(stall_seconds)::float8 as stall, sum(stalls)::int as stalls,
      sum(switches_auto)::int as switches_auto, sum(switches_manual)::int as switches_manual,
      sum(failures)::int as failures,
      sum(exits_before_start)::int as exits, sum(bitrate_seconds)::float8 as bitrate_seconds,
      sum(bitrate_watched)::float8 as bitrate_watched, sum(upscale_weighted)::float8 as upscale_weighted,
      sum(upscale_watched)::float8 as upscale_watched, max(peak_concurrent)::int as peak
    from view_hourly where ${where} group by 1 order by 1`.execute(db);
  const buckets = new Map<number, Sums>();
  for (const row of rows.rows) buckets.set(row.start.getTime(), sumsOf(row));
  for (const [column, field] of [
    ['startup_histogram', 'startupHistogram'],
    ['height_seconds', 'heightSeconds'],
  ] as const) {
    const entries = await sql<{ start: Date; key: string; n: number }>`
      select ${bucket} as start, e.key, sum(e.value::float8)::float8 as n
      from view_hourly, jsonb_each_text(${sql.ref(column)}) e where ${where} group by 1, 2`.execute(db);
    for (const entry of entries.rows) {
      const sums = buckets.get(entry.start.getTime());
      if (sums) sums[field][entry.key] = entry.n;
    }
  }
  return buckets;
}

function sumsOf(row: BucketRow): Sums {
  return {
    ...emptySums(),
    sessions: row.sessions,
    views: row.views,
    watchSeconds: row.watch,
    stallSeconds: row.stall,
    stalls: row.stalls,
    switchesAuto: row.switches_auto,
    switchesManual: row.switches_manual,
    failures: row.failures,
    exitsBeforeStart: row.exits,
    bitrateSeconds: row.bitrate_seconds,
    bitrateWatched: row.bitrate_watched,
    upscaleWeighted: row.upscale_weighted,
    upscaleWatched: row.upscale_watched,
    peakConcurrent: row.peak,
  };
}

/** Sessions that watched each 1 % of the video (101 counts). */
export async function retentionCounts(db: Db, videoId: string, range: StatsRange): Promise<number[]> {
  const rows = await sql<{ point: number; n: number }>`
    select (u.i - 1)::int as point, sum(u.r)::int as n
    from view_hourly, unnest(retention) with ordinality as u(r, i)
    where video_id = ${videoId} and ${rangeSql(range)} group by 1`.execute(db);
  const counts = new Array<number>(101).fill(0);
  for (const row of rows.rows) if (row.point >= 0 && row.point <= 100) counts[row.point] = row.n;
  return counts;
}

export interface DimensionFilter {
  dimension: 'browser' | 'os' | 'device';
  value: string;
}

/** What the breakdowns keep, summed: per bucket of the series, for the viewers of one browser, OS or device class. */
export interface DimensionSums {
  sessions: number;
  views: number;
  watch: number;
  stall: number;
  failures: number;
}

export async function dimensionSeries(
  db: Db,
  scope: StatsScope,
  range: StatsRange,
  filter: DimensionFilter,
): Promise<Array<{ start: number; sums: DimensionSums }>> {
  const rows = await sql<DimensionSums & { start: Date }>`
    select date_trunc(${range.granularity}, hour, 'UTC') as start, sum(sessions)::int as sessions,
      sum(views)::int as views, sum(watch_seconds)::float8 as watch, sum(stall_seconds)::float8 as stall,
      sum(failures)::int as failures
    from view_hourly_dims
    where ${scopeSql(scope)} and ${rangeSql(range)} and dimension = ${filter.dimension} and value = ${filter.value}
    group by 1 order by 1`.execute(db);
  return rows.rows.map(({ start, ...sums }) => ({ start: start.getTime(), sums }));
}

/** Sessions, views, watch time, rebuffer % and failure % from summed dimension rows. */
export function breakdownFigures(row: {
  sessions: number;
  views: number;
  watch: number;
  stall: number;
  failures: number;
}) {
  return {
    sessions: row.sessions,
    views: row.views,
    watchTimeSeconds: row.watch,
    averageWatchSeconds: row.sessions > 0 ? row.watch / row.sessions : null,
    rebufferPercent: row.watch + row.stall > 0 ? (100 * row.stall) / (row.watch + row.stall) : null,
    playbackFailurePercent: row.sessions > 0 ? (100 * row.failures) / row.sessions : null,
  };
}

export interface BreakdownRow {
  value: string;
  sessions: number;
  views: number;
  watchTimeSeconds: number;
  averageWatchSeconds: number | null;
  rebufferPercent: number | null;
  playbackFailurePercent: number | null;
}

/** Sessions, views, watch time, rebuffering and failures per browser, OS and device class. */
export async function breakdowns(
  db: Db,
  scope: StatsScope,
  range: StatsRange,
): Promise<Record<'browser' | 'os' | 'device', BreakdownRow[]>> {
  const rows = await sql<{
    dimension: 'browser' | 'os' | 'device';
    value: string;
    sessions: number;
    views: number;
    watch: number;
    stall: number;
    failures: number;
  }>`
    select dimension, value, sum(sessions)::int as sessions, sum(views)::int as views,
      sum(watch_seconds)::float8 as watch, sum(stall_seconds)::float8 as stall, sum(failures)::int as failures
    from view_hourly_dims where ${scopeSql(scope)} and ${rangeSql(range)}
    group by 1, 2 order by sum(watch_seconds) desc, sum(sessions) desc, value`.execute(db);
  const result: Record<'browser' | 'os' | 'device', BreakdownRow[]> = { browser: [], os: [], device: [] };
  for (const row of rows.rows) result[row.dimension]?.push({ value: row.value, ...breakdownFigures(row) });
  return result;
}

export interface TopVideo {
  videoId: string;
  title: string;
  views: number;
  watchTimeSeconds: number;
  rebufferPercent: number | null;
}

/**
 * The videos in scope with the most views, the most watch time, and the worst rebuffering (≥ 1 minute
 * watched). Sums come from the narrow (hour) covering index; titles are joined to the few winners only.
 */
export async function topVideos(db: Db, scope: StatsScope, range: StatsRange, limit = 10) {
  // A few more than asked: deleted videos are dropped after ranking.
  const take = limit + 10;
  const rows = await sql<{
    list: string;
    video_id: string;
    title: string;
    views: number;
    watch: number;
    stall: number;
  }>`
    with per as (
      select video_id, sum(views)::int as views, sum(watch) as watch, sum(stall) as stall from (${rangeTotals(scope, range)}) x
      group by 1),
    ranked as (
      (select 'views' as list, * from per order by views desc, video_id collate "C" limit ${take})
      union all (select 'watch', * from per order by watch desc, video_id collate "C" limit ${take})
      union all (select 'rebuffer', * from per where watch >= 60
        order by stall / (watch + stall) desc, video_id collate "C" limit ${take}))
    select r.*, v.title from ranked r join videos v on v.id = r.video_id where v.status <> 'deleted'`.execute(
    db,
  );
  const list = (name: string, key: (video: TopVideo) => number): TopVideo[] =>
    rows.rows
      .filter((row) => row.list === name)
      .map((row) => ({
        videoId: row.video_id,
        title: row.title,
        views: row.views,
        watchTimeSeconds: row.watch,
        rebufferPercent: row.watch + row.stall > 0 ? (100 * row.stall) / (row.watch + row.stall) : null,
      }))
      .sort((a, b) => key(b) - key(a) || (a.videoId < b.videoId ? -1 : 1))
      .slice(0, limit);
  return {
    byViews: list('views', (video) => video.views),
    byWatchTime: list('watch', (video) => video.watchTimeSeconds),
    worstRebuffer: list('rebuffer', (video) => video.rebufferPercent ?? 0),
  };
}
