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

const QUEUES: Record<JobName, { retryLimit: number; retryDelay: number; expireInSeconds: number }> = {
  'video.process': { retryLimit: 4, retryDelay: 15, expireInSeconds: 3600 },
};

/** pg-boss on the application database (PGlite or PostgreSQL). */
export class PgBossJobQueue implements JobQueue {
  readonly boss: PgBoss;

  constructor(database: Database) {
    this.boss = new PgBoss({
      db: database,
      backend: database.kind === 'pglite' ? 'pglite' : 'postgres',
      schema: 'pgboss',
    });
    this.boss.on('error', () => {}); // reported through job failures; a transient poll error must not crash
  }

  async start(): Promise<void> {
    await this.boss.start();
    for (const [name, options] of Object.entries(QUEUES)) {
      await this.boss.createQueue(name, { ...options, retryBackoff: true });
      // createQueue empties pg-boss's queue cache; a later send() inside a transaction would refill it
      // through the pool, which on PGlite (one session, held by that transaction) deadlocks. Refill now.
      await this.boss.getJobById(name, '00000000-0000-0000-0000-000000000000');
    }
  }

  async send<N extends JobName>(name: N, data: JobCatalogue[N], options: { tx?: SqlExecutor } = {}) {
    return this.boss.send(name, data, options.tx ? { db: options.tx } : {});
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
