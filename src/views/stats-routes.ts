import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import { Type } from 'typebox';
import type { Viewer } from '../auth/policy.ts';
import { errors } from '../errors.ts';
import { errorResponses, IdParam } from '../http/schemas.ts';
import type { Clock } from '../platform/clock.ts';
import { seriesCsv } from './stats.ts';
import type { DimensionFilter, StatsRange } from './stats-query.ts';
import type { StatsService } from './stats-service.ts';

export interface StatsRouteOptions {
  stats: StatsService;
  /** Throws unless the viewer may manage the video (catalog's VideoService.manageable: 404/410/403). */
  manageable(id: string, viewer: Viewer): Promise<unknown>;
  requireKey: preHandlerHookHandler;
  clock: Clock;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_RANGE_DAYS = 400;
const MAX_HOURLY_DAYS = 31;

const StatsQuery = Type.Object({
  from: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601; default 30 days before `to`' })),
  to: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601; default now' })),
  granularity: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('day')])),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  browser: Type.Optional(
    Type.String({ maxLength: 40, description: 'Only viewers of this browser family (one filter at a time)' }),
  ),
  os: Type.Optional(Type.String({ maxLength: 40, description: 'Only viewers on this OS family' })),
  device: Type.Optional(Type.String({ maxLength: 40, description: 'Only viewers on this device class' })),
});
type StatsQueryInput = {
  from?: string;
  to?: string;
  granularity?: 'hour' | 'day';
  format?: 'json' | 'csv';
  browser?: string;
  os?: string;
  device?: string;
};

/** `browser=`, `os=` or `device=`: at most one (the breakdowns are kept per dimension, not per combination). */
export function filterOf(query: StatsQueryInput): DimensionFilter | undefined {
  const given = (['browser', 'os', 'device'] as const).filter((dimension) => query[dimension] !== undefined);
  if (given.length > 1) {
    throw errors.validation('Filter by one of browser, os or device at a time', { field: given[1] });
  }
  const dimension = given[0];
  return dimension ? { dimension, value: query[dimension]! } : undefined;
}

/** The range asked for, aligned to whole hours (the buckets), within the limits. */
export function rangeOf(query: StatsQueryInput, nowMs: number): StatsRange {
  const parse = (value: string | undefined, field: string, fallback: number) => {
    if (value === undefined) return fallback;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw errors.validation(`${field} must be a date (ISO 8601)`, { field });
    return ms;
  };
  const to = Math.ceil(parse(query.to, 'to', nowMs) / HOUR) * HOUR;
  const from = Math.floor(parse(query.from, 'from', to - 30 * DAY) / HOUR) * HOUR;
  if (from >= to) throw errors.validation('`from` must be before `to`', { field: 'from' });
  if (to - from > MAX_RANGE_DAYS * DAY) {
    throw errors.validation(`A range covers at most ${MAX_RANGE_DAYS} days`, { field: 'from' });
  }
  const granularity = query.granularity ?? (to - from > 2 * DAY ? 'day' : 'hour');
  if (granularity === 'hour' && to - from > MAX_HOURLY_DAYS * DAY) {
    throw errors.validation(`An hourly series covers at most ${MAX_HOURLY_DAYS} days`, {
      field: 'granularity',
    });
  }
  return { from, to, granularity };
}

const DESCRIPTION =
  'Views, unique viewers (distinct per UTC day, summed over days), watch time, and quality of experience ' +
  'with Mux Data’s definitions: startup time p50/p95, playback failure %, exits before start %, rebuffer % ' +
  'and per minute, time-weighted rendition height and bitrate, upscale %, quality switches per minute, ' +
  'peak concurrent viewers. `series` per hour or day; `breakdowns` by browser, OS, device class and ' +
  'rendition height. `format=csv`: the series as CSV. `browser=`, `os=` or `device=` (one of them): totals ' +
  'and series of sessions, views, watch time, rebuffering and failures for those viewers only.';

/** `GET /api/v1/videos/:id/stats` (the owner's key or an admin's) and `GET /api/v1/stats` (a key's videos; an admin: all). */
export async function statsRoutes(parent: FastifyInstance, options: StatsRouteOptions): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const security = [{ bearer: [] }];
  app.get(
    '/api/v1/videos/:id/stats',
    {
      preHandler: options.requireKey,
      schema: {
        tags: ['views'],
        security,
        summary: 'A video’s views, watch time, retention and quality of experience',
        description: DESCRIPTION,
        params: Type.Object({ id: IdParam }),
        querystring: StatsQuery,
        response: { ...errorResponses(400, 401, 403, 404, 410) },
      },
    },
    async (request, reply) => {
      await options.manageable(request.params.id, request.principal);
      const range = rangeOf(request.query, options.clock.nowMs());
      const filter = filterOf(request.query);
      if (filter) return options.stats.filtered({ videoId: request.params.id }, range, filter);
      const report = await options.stats.video(request.params.id, range);
      if (request.query.format === 'csv')
        return reply.type('text/csv; charset=utf-8').send(seriesCsv(report.series));
      return report;
    },
  );
  app.get(
    '/api/v1/stats',
    {
      preHandler: options.requireKey,
      schema: {
        tags: ['views'],
        security,
        summary: 'Across your videos (an admin: every video): totals, series, breakdowns, top videos',
        description: DESCRIPTION,
        querystring: StatsQuery,
        response: { ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (principal?.kind !== 'api-key') throw errors.forbidden('Statistics need an API key');
      const scope = principal.role === 'admin' ? { all: true as const } : { ownerKeyId: principal.keyId };
      const range = rangeOf(request.query, options.clock.nowMs());
      const filter = filterOf(request.query);
      if (filter) return options.stats.filtered(scope, range, filter);
      const report = await options.stats.overall(scope, range);
      if (request.query.format === 'csv')
        return reply.type('text/csv; charset=utf-8').send(seriesCsv(report.series));
      return report;
    },
  );
}
