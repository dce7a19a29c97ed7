import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { errors } from '../errors.ts';
import { bearerToken } from './bearer.ts';

export interface MetricsRouteOptions {
  metrics: Registry;
  /** METRICS_TOKEN: when set, `Authorization: Bearer <token>` is required; else /metrics is open. */
  token: string | undefined;
}

/** `GET /metrics` (Prometheus text format), open by default as Prometheus expects, or token-protected. */
export async function metricsRoute(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const expected = options.token === undefined ? undefined : digest(options.token);
  app.get(
    '/metrics',
    {
      schema: { hide: true },
      preHandler: async (request) => {
        if (!expected) return;
        const token = bearerToken(request);
        if (!token) throw errors.authRequired('Send the metrics token as "Authorization: Bearer <token>"');
        // Digests have one length, so the comparison takes the same time whatever was sent.
        if (!timingSafeEqual(digest(token), expected))
          throw errors.authInvalid('The metrics token is invalid');
      },
    },
    async (_request, reply) => reply.type(options.metrics.contentType).send(await options.metrics.metrics()),
  );
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
