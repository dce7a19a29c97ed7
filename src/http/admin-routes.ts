import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { Type } from 'typebox';
import { errors } from '../errors.ts';
import type { CacheStats } from '../platform/cache/tiered-cache.ts';
import { errorResponses } from './schemas.ts';

export interface AdminRouteOptions {
  /** preHandler establishing the request's API key (auth's requireKey). */
  requireKey: preHandlerHookHandler;
  /** Whether the request's principal may read operational data (auth/policy.ts: canOperate). */
  mayOperate(request: FastifyRequest): boolean;
  cacheStats(): CacheStats;
}

const Tier = Type.Object({
  l1Hits: Type.Integer(),
  l2Hits: Type.Integer(),
  misses: Type.Integer(),
  hitRatio: Type.Union([Type.Number(), Type.Null()]),
});

const CacheStatsSchema = Type.Object({
  entries: Type.Integer({ description: 'Entries held in this process' }),
  l2: Type.Union([Type.Literal('off'), Type.Literal('up'), Type.Literal('down')], {
    description: 'The Redis tier: off without REDIS_URL, down while unreachable',
  }),
  l2Errors: Type.Integer(),
  namespaces: Type.Record(Type.String(), Tier),
});

/** How this process's cache is doing (admin keys): what /metrics exports, readable without Prometheus. */
export async function adminRoutes(app: FastifyInstance, options: AdminRouteOptions): Promise<void> {
  app.get(
    '/api/v1/admin/cache',
    {
      preHandler: options.requireKey,
      schema: {
        tags: ['admin'],
        security: [{ bearer: [] }],
        summary: "This process's cache: hits per tier and misses per namespace, entries, Redis health",
        response: { 200: CacheStatsSchema, ...errorResponses(401, 403) },
      },
    },
    async (request) => {
      if (!options.mayOperate(request)) throw errors.forbidden('Cache statistics need an admin key');
      const stats = options.cacheStats();
      const namespaces = Object.fromEntries(
        Object.entries(stats.namespaces).map(([name, counts]) => {
          const reads = counts.l1Hits + counts.l2Hits + counts.misses;
          const hitRatio = reads === 0 ? null : (counts.l1Hits + counts.l2Hits) / reads;
          return [name, { ...counts, hitRatio }];
        }),
      );
      return { ...stats, namespaces };
    },
  );
}
