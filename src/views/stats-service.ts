import { sql } from 'kysely';
import type { Db } from '../platform/db/database.ts';
import { addSums, emptySums, type Figures, figuresOf, retentionCurve } from './stats.ts';
import {
  type BreakdownRow,
  breakdownFigures,
  breakdowns,
  bucketSums,
  type DimensionFilter,
  dimensionSeries,
  retentionCounts,
  type StatsRange,
  type StatsScope,
  topVideos,
} from './stats-query.ts';
import type { UniqueViewers } from './unique-viewers.ts';

export interface StatsReport {
  from: string;
  to: string;
  granularity: 'hour' | 'day';
  totals: Figures;
  series: Array<{ start: string } & Figures>;
  breakdowns: Record<'browser' | 'os' | 'device', BreakdownRow[]> & {
    height: Array<{ value: string; watchTimeSeconds: number; share: number }>;
  };
}

/** Statistics of one video, of a key's videos or of all: totals, a series, breakdowns. */
export class StatsService {
  readonly #db: Db;
  readonly #uniques: UniqueViewers;

  constructor(db: Db, uniques: UniqueViewers) {
    this.#db = db;
    this.#uniques = uniques;
  }

  async report(scope: StatsScope, range: StatsRange): Promise<StatsReport> {
    const videoIds = await this.#videoIds(scope);
    const [buckets, uniqueTotal, uniqueByBucket, byDimension] = await Promise.all([
      bucketSums(this.#db, scope, range),
      this.#uniques.count(videoIds, range.from, range.to),
      this.#uniques.countByBucket(videoIds, range.from, range.to, range.granularity),
      breakdowns(this.#db, scope, range),
    ]);
    const total = emptySums();
    const series = [...buckets].map(([start, sums]) => {
      addSums(total, sums);
      return { start: new Date(start).toISOString(), ...figuresOf(sums, uniqueByBucket.get(start) ?? 0) };
    });
    const heightWatched = Object.values(total.heightSeconds).reduce((a, b) => a + b, 0);
    return {
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      granularity: range.granularity,
      totals: figuresOf(total, uniqueTotal),
      series,
      breakdowns: {
        ...byDimension,
        height: Object.entries(total.heightSeconds)
          .map(([value, seconds]) => ({ value, watchTimeSeconds: seconds, share: seconds / heightWatched }))
          .sort((a, b) => b.watchTimeSeconds - a.watchTimeSeconds),
      },
    };
  }

  /** One video's report, with its retention curve. */
  async video(videoId: string, range: StatsRange): Promise<StatsReport & { retention: number[] }> {
    const [report, covered] = await Promise.all([
      this.report({ videoId }, range),
      retentionCounts(this.#db, videoId, range),
    ]);
    return { ...report, retention: retentionCurve(covered, report.totals.sessions) };
  }

  /**
   * The viewers of one browser, OS or device class: the figures the breakdowns keep (sessions, views,
   * watch time, rebuffering, failures), as totals and a series.
   */
  async filtered(scope: StatsScope, range: StatsRange, filter: DimensionFilter) {
    const buckets = await dimensionSeries(this.#db, scope, range, filter);
    const total = { sessions: 0, views: 0, watch: 0, stall: 0, failures: 0 };
    for (const { sums } of buckets) {
      for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += sums[key];
    }
    return {
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      granularity: range.granularity,
      filter,
      totals: breakdownFigures(total),
      series: buckets.map(({ start, sums }) => ({
        start: new Date(start).toISOString(),
        ...breakdownFigures(sums),
      })),
    };
  }

  /** Across videos, with the top ones. */
  async overall(scope: StatsScope, range: StatsRange) {
    const [report, top] = await Promise.all([this.report(scope, range), topVideos(this.#db, scope, range)]);
    return { ...report, top };
  }

  async #videoIds(scope: StatsScope): Promise<string[] | 'all'> {
    if ('videoId' in scope) return [scope.videoId];
    if ('all' in scope) return 'all';
    const rows = await sql<{
      id: string;
    }>`select id from videos where owner_key_id = ${scope.ownerKeyId}`.execute(this.#db);
    return rows.rows.map((row) => row.id);
  }
}
