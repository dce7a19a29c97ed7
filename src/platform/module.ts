import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { AnyJob, JobDefinition, JobHandler } from './queue/job-queue.ts';

/**
 * What a domain hands the composition root (app.ts). A domain builds itself from its dependencies in
 * `<domain>/module.ts` (`createX(deps)`) and returns its services next to these; the root only maps
 * over the parts: routes for API processes, workers and duties for worker processes.
 */
export interface DomainModule {
  /** Its HTTP routes, registered by API processes (`reel serve`) only. */
  routes?: FastifyPluginAsync;
  /** Every job it sends or handles: their queues are created before anything is sent. */
  jobs?: readonly AnyJob[];
  /** Its job handlers, run where workers run (`reel serve` by default, `reel worker`). */
  workers?: readonly JobWorker[];
  /** Periodic work (sweeping, recovery), run where workers run. */
  duties?: readonly Duty[];
  /** Registers its Prometheus metrics (API processes' /metrics). */
  metrics?(registry: Registry): void;
  /** Releases what it holds (after the HTTP server has closed). */
  close?(): Promise<void>;
}

/** A job and its handler; build one with `jobWorker` so the two agree on the payload. */
export interface JobWorker {
  job: AnyJob;
  concurrency: number;
  // biome-ignore lint/suspicious/noExplicitAny: the payload type is checked in jobWorker()
  handle: JobHandler<any>;
}

export function jobWorker<Data>(
  job: JobDefinition<Data>,
  concurrency: number,
  handle: JobHandler<Data>,
): JobWorker {
  return { job, concurrency, handle };
}

export interface Duty {
  name: string;
  everyMs: number;
  /** Also run once at start. */
  run(): Promise<unknown>;
}
