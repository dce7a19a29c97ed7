import { PgBoss } from 'pg-boss';
import type { Database, SqlExecutor } from '../db/database.ts';

/** Every job Reel runs: name → payload. */
export interface JobCatalogue {
  'video.process': { videoId: string };
}
export type JobName = keyof JobCatalogue;

export interface JobContext {
  id: string;
  retryCount: number;
  signal: AbortSignal;
}

export type JobHandler<N extends JobName> = (data: JobCatalogue[N], context: JobContext) => Promise<void>;

export interface SendOptions {
  /** Commit the job with this transaction. */
  tx?: SqlExecutor;
  /** The job's time limit; past it the attempt counts as failed and is retried. */
  expireInSeconds?: number;
}

export interface QueueSettings {
  retryLimit: number;
  retryDelaySeconds: number;
  /** A worker that stops sending heartbeats this long is presumed dead and its job retried. */
  heartbeatSeconds: number;
  monitorIntervalSeconds: number;
}

export interface JobQueue {
  start(): Promise<void>;
  /** Enqueues a job; with `tx` the job commits or rolls back with the caller's transaction. */
  send<N extends JobName>(
    name: N,
    data: JobCatalogue[N],
    options?: { tx?: SqlExecutor },
  ): Promise<string | null>;
  work<N extends JobName>(name: N, options: { concurrency: number }, handler: JobHandler<N>): Promise<void>;
  /** Stops taking jobs and waits (up to timeoutMs) for running ones. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

const JOB_NAMES: JobName[] = ['video.process'];

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

  async start(): Promise<void> {
    await startRacing(() => this.boss.start());
    const options = {
      retryLimit: this.settings.retryLimit,
      retryDelay: this.settings.retryDelaySeconds,
      retryBackoff: true,
      heartbeatSeconds: this.settings.heartbeatSeconds,
    };
    for (const name of JOB_NAMES) {
      await this.boss.createQueue(name, options);
      await this.boss.updateQueue(name, options); // settings changed since the queue was first made
      // createQueue empties pg-boss's queue cache; a later send() inside a transaction would refill it
      // through the pool, which on PGlite (one session, held by that transaction) deadlocks. Refill now.
      await this.boss.getJobById(name, '00000000-0000-0000-0000-000000000000');
    }
  }

  async send<N extends JobName>(name: N, data: JobCatalogue[N], options: SendOptions = {}) {
    return this.boss.send(name, data, {
      ...(options.tx ? { db: options.tx } : {}),
      ...(options.expireInSeconds ? { expireInSeconds: options.expireInSeconds } : {}),
    });
  }

  async work<N extends JobName>(name: N, options: { concurrency: number }, handler: JobHandler<N>) {
    await this.boss.work<JobCatalogue[N]>(
      name,
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
