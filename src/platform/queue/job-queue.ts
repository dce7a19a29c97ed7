import { PgBoss } from 'pg-boss';
import type { Database, SqlExecutor } from '../db/database.ts';

/**
 * A kind of job: its queue name, and the send options that follow from its payload (e.g. a time
 * limit from a video's duration), so no caller can forget them. Domains define their jobs
 * (`processing/jobs.ts`); the queue knows none by name.
 */
export interface JobDefinition<Data> {
  readonly name: string;
  options(data: Data): JobOptions;
}

export interface JobOptions {
  /** The job's time limit; past it the attempt counts as failed and is retried. */
  expireInSeconds?: number;
}

export function defineJob<Data>(name: string, options: (data: Data) => JobOptions = () => ({})) {
  return { name, options } as const satisfies JobDefinition<Data>;
}

export interface JobContext {
  id: string;
  retryCount: number;
  signal: AbortSignal;
}

/** A job of any payload, as lists of jobs hold them. */
// biome-ignore lint/suspicious/noExplicitAny: the payload type is erased in a list of jobs
export type AnyJob = JobDefinition<any>;

export type JobHandler<Data> = (data: Data, context: JobContext) => Promise<void>;

export interface QueueSettings {
  retryLimit: number;
  retryDelaySeconds: number;
  /** A worker that stops sending heartbeats this long is presumed dead and its job retried. */
  heartbeatSeconds: number;
  monitorIntervalSeconds: number;
}

export interface JobQueue {
  /** Creates (or updates) the queues of these jobs; every job sent or worked must be among them. */
  start(jobs: readonly AnyJob[]): Promise<void>;
  /** Enqueues a job; with `tx` the job commits or rolls back with the caller's transaction. */
  send<Data>(job: JobDefinition<Data>, data: Data, options?: { tx?: SqlExecutor }): Promise<string | null>;
  work<Data>(
    job: JobDefinition<Data>,
    options: { concurrency: number },
    handler: JobHandler<Data>,
  ): Promise<void>;
  /** Stops taking jobs and waits (up to timeoutMs) for running ones. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/** pg-boss on the application database (PGlite or PostgreSQL). */
export class PgBossJobQueue implements JobQueue {
  readonly boss: PgBoss;
  readonly settings: QueueSettings;

  constructor(database: Database, settings: QueueSettings) {
    this.settings = settings;
    this.boss = new PgBoss({
      db: database,
      backend: database.kind === 'pglite' ? 'pglite' : 'postgres',
      schema: 'pgboss',
      monitorIntervalSeconds: settings.monitorIntervalSeconds,
      superviseIntervalSeconds: settings.monitorIntervalSeconds,
    });
    this.boss.on('error', () => {}); // reported through job failures; a transient poll error must not crash
  }

  async start(jobs: readonly AnyJob[]): Promise<void> {
    await startRacing(() => this.boss.start());
    const options = {
      retryLimit: this.settings.retryLimit,
      retryDelay: this.settings.retryDelaySeconds,
      retryBackoff: true,
      heartbeatSeconds: this.settings.heartbeatSeconds,
    };
    for (const name of new Set(jobs.map((job) => job.name))) {
      await this.boss.createQueue(name, options);
      await this.boss.updateQueue(name, options); // settings changed since the queue was first made
      // createQueue empties pg-boss's queue cache; a later send() inside a transaction would refill it
      // through the pool, which on PGlite (one session, held by that transaction) deadlocks. Refill now.
      await this.boss.getJobById(name, '00000000-0000-0000-0000-000000000000');
    }
  }

  async send<Data>(job: JobDefinition<Data>, data: Data, options: { tx?: SqlExecutor } = {}) {
    const { expireInSeconds } = job.options(data);
    return this.boss.send(job.name, data as object, {
      ...(options.tx ? { db: options.tx } : {}),
      ...(expireInSeconds ? { expireInSeconds } : {}),
    });
  }

  async work<Data>(job: JobDefinition<Data>, options: { concurrency: number }, handler: JobHandler<Data>) {
    await this.boss.work<Data>(
      job.name,
      { localConcurrency: options.concurrency, batchSize: 1, pollingIntervalSeconds: 1 },
      async ([job]) => {
        if (!job) return;
        await handler(job.data, { id: job.id, retryCount: job.retryCount ?? 0, signal: job.signal });
      },
    );
  }

  async stop(options: { timeoutMs?: number } = {}) {
    await this.boss.stop({ graceful: true, timeout: options.timeoutMs ?? 30_000, close: false });
  }
}

/**
 * pg-boss installs its schema on first start without a lock: API nodes and workers starting together
 * on a new database race, and the losers fail with a unique violation (measured: two `reel serve`
 * processes). The schema is there by then, so a loser simply starts again.
 */
async function startRacing(start: () => Promise<unknown>, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= attempts || (code !== '23505' && code !== '42P07')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
