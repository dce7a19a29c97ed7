import type { Redis } from 'ioredis';
import type { Cache } from './cache/cache.ts';
import { createLruCache } from './cache/lru-cache.ts';
import { type Clock, systemClock } from './clock.ts';
import { type Database, openDatabase } from './db/database.ts';
import { migrate } from './db/migrations.ts';
import type { Logger } from './logger.ts';
import { type JobQueue, PgBossJobQueue, type QueueSettings } from './queue/job-queue.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { createBlobStore } from './storage/index.ts';
import type { StorageConfig } from './storage/storage-config.ts';

/** What the platform is built from (a subset of the app's Config). */
export interface PlatformSettings {
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  storage: StorageConfig;
  jobs: QueueSettings;
}

/** The side effects every domain builds on; no domain is named here. */
export interface Platform {
  database: Database;
  store: BlobStore;
  /** Started by the composition root once every domain has declared its jobs. */
  queue: JobQueue;
  /** Present when REDIS_URL is set (rate limits across nodes). */
  redis: Redis | undefined;
  clock: Clock;
  /** In-process L1 cache; each domain takes a namespace of it. */
  cache: Cache;
  log: Logger;
  /** Stops the queue, quits Redis, closes a database it opened itself. */
  close(): Promise<void>;
}

/** ioredis is loaded only when Redis is configured. */
async function connectRedis(url: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  return new Redis(url, { connectTimeout: 1000, maxRetriesPerRequest: 1 });
}

/**
 * Opens (and migrates) the database, the store, the queue and Redis. `database`: one already open
 * (tests share one); it is then not closed here.
 */
export async function openPlatform(
  settings: PlatformSettings,
  options: { log: Logger; database?: Database | undefined },
): Promise<Platform> {
  const database = options.database ?? (await openDatabase(settings));
  const closers: Array<() => Promise<unknown>> = options.database ? [] : [() => database.close()];
  const close = async () => {
    for (const closer of closers) await closer().catch(() => {});
  };
  try {
    await migrate(database.db);
    const store = await createBlobStore(settings.storage);
    const queue = new PgBossJobQueue(database, settings.jobs);
    closers.unshift(() => queue.stop({ timeoutMs: 10_000 }));
    const redis = settings.redisUrl ? await connectRedis(settings.redisUrl) : undefined;
    if (redis) closers.unshift(() => redis.quit());
    const cache = createLruCache({ maxEntries: 10_000 });
    return { database, store, queue, redis, clock: systemClock, cache, log: options.log, close };
  } catch (error) {
    await close();
    throw error;
  }
}
