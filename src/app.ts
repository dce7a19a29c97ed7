import type { FastifyInstance } from 'fastify';
import { canOperate } from './auth/policy.ts';
import type { Config } from './config.ts';
import { createDomains, type Domains } from './domains.ts';
import { adminRoutes } from './http/admin-routes.ts';
import { healthRoutes } from './http/health-routes.ts';
import { metricsRoute } from './http/metrics-route.ts';
import { createServer } from './http/server.ts';
import { startBackground } from './platform/background.ts';
import type { Database } from './platform/db/database.ts';
import { createLogger, type LoggerOptions } from './platform/logger.ts';
import { createMetrics } from './platform/metrics.ts';
import type { DomainModule } from './platform/module.ts';
import { openPlatform, type Platform } from './platform/platform.ts';

export interface App extends Platform, Domains {
  config: Config;
  http: FastifyInstance;
  /** Starts the background duties: transcoding workers and the upload sweeper. */
  startWorkers(): Promise<void>;
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: LoggerOptions;
  /** An already-open database (tests share one); otherwise opened from config. */
  database?: Database;
}

/** The composition root of `reel serve`: the platform, every domain, one HTTP server over their routes. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const platform = await openPlatform(config, {
    log: createLogger(options.logger),
    database: options.database,
  });
  const closers: Array<() => Promise<unknown>> = [() => platform.close()];
  const close = async () => {
    for (const closer of closers) await closer().catch(() => {});
  };
  try {
    const domains = await createDomains(config, platform);
    const modules: DomainModule[] = Object.values(domains);
    await platform.queue.start(modules.flatMap((module) => module.jobs ?? []));
    for (const module of modules) if (module.close) closers.unshift(module.close);
    const http = await createHttp(config, platform, domains);
    closers.unshift(() => http.close()); // first: streams end, then the modules and the platform close
    let stopBackground = () => {};
    return {
      ...platform,
      ...domains,
      config,
      http,
      async startWorkers() {
        stopBackground = await startBackground(modules, platform.queue, platform.log);
      },
      async close() {
        stopBackground();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Fastify with the cross-cutting concerns, the operational routes and every domain's routes. */
async function createHttp(config: Config, platform: Platform, domains: Domains): Promise<FastifyInstance> {
  const http = await createServer({
    logger: platform.log,
    rateLimitKey: domains.auth.authenticator.rateLimitKey,
    requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    redis: platform.redis,
    corsOrigins: config.delivery.corsOrigins,
    trustProxy: config.http.trustProxy,
  });
  await http.register(healthRoutes, { db: platform.database.db, store: platform.store });
  const { cacheStats } = platform;
  const metrics = createMetrics({ cacheStats });
  for (const module of Object.values(domains) as DomainModule[]) module.metrics?.(metrics);
  await http.register(metricsRoute, {
    metrics,
    token: config.http.metricsToken,
  });
  await http.register(adminRoutes, {
    requireKey: domains.auth.authenticator.requireKey,
    mayOperate: (request) => canOperate(request.principal),
    cacheStats,
  });
  for (const module of Object.values(domains) as DomainModule[]) {
    if (module.routes) await http.register(module.routes);
  }
  return http;
}
