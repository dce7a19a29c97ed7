import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { CacheStats } from './cache/tiered-cache.ts';

export interface MetricSources {
  /** The platform cache's statistics, read at each scrape. */
  cacheStats?: () => CacheStats;
}

/** Prometheus metrics of one process, exposed at /metrics. */
export function createMetrics(sources: MetricSources = {}): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (sources.cacheStats) registerCacheMetrics(registry, sources.cacheStats);
  return registry;
}

/** Cache hits per tier and misses per namespace, entries held, and the shared tier's health. */
function registerCacheMetrics(registry: Registry, stats: () => CacheStats): void {
  new Counter({
    name: 'reel_cache_requests_total',
    help: 'Cache reads by namespace and by what answered: l1_hit (this process), l2_hit (Redis) or miss',
    labelNames: ['namespace', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [namespace, counts] of Object.entries(stats().namespaces)) {
        this.inc({ namespace, result: 'l1_hit' }, counts.l1Hits);
        this.inc({ namespace, result: 'l2_hit' }, counts.l2Hits);
        this.inc({ namespace, result: 'miss' }, counts.misses);
      }
    },
  });
  new Counter({
    name: 'reel_cache_l2_errors_total',
    help: 'Failed Redis cache commands (each answered as a miss)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats().l2Errors);
    },
  });
  new Gauge({
    name: 'reel_cache_entries',
    help: 'Entries held in this process (L1)',
    registers: [registry],
    collect() {
      this.set(stats().entries);
    },
  });
  new Gauge({
    name: 'reel_cache_l2_up',
    help: 'Whether the Redis cache is reachable (absent without REDIS_URL)',
    registers: [registry],
    collect() {
      const { l2 } = stats();
      if (l2 !== 'off') this.set(l2 === 'up' ? 1 : 0);
    },
  });
}
