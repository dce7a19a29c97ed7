import { collectDefaultMetrics, Registry } from 'prom-client';

/** Prometheus metrics of one process, exposed at /metrics. */
export function createMetrics(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
