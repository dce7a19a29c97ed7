import type { Redis } from 'ioredis';
import { type Cache, cacheOver } from './cache/cache.ts';
import { LruCacheStore } from './cache/lru-cache.ts';
import { RedisCacheStore } from './cache/redis-cache.ts';
import { type CacheStats, TieredCacheStore } from './cache/tiered-cache.ts';
import { type ChangeBus, LocalChangeBus } from './changes/change-bus.ts';
import { RedisChangeBus } from './changes/redis-change-bus.ts';
import { type Clock, systemClock } from './clock.ts';
import { type Database, type Db, openDatabase, openPostgres } from './db/database.ts';
import { migrate } from './db/migrations.ts';
import type { Logger } from './logger.ts';
import { type JobQueue, PgBossJobQueue, type QueueSettings } from './queue/job-queue.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { createBlobStore } from './storage/index.ts';
import type { StorageConfig } from './storage/storage-config.ts';

/** What the platform is built from (a subset of the app's Config). */
export interface PlatformSettings {
  databaseUrl: string | undefined;
  /** DATABASE_READ_URL: a read replica for reads that may lag (lists, search); absent → the primary. */
  databaseReadUrl?: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  /** Prefix of every Redis key and channel of this deployment (`reel:`). */
  redisKeyPrefix?: string;
  storage: StorageConfig;
  jobs: QueueSettings;
}

/** The side effects every domain builds on; no domain is named here. */
export interface Platform {
  database: Database;
  /** Where reads that may lag a little go: the read replica, or the primary when there is none. */
  readDb: Db;
  store: BlobStore;
  /** Started by the composition root once every domain has declared its jobs. */
  queue: JobQueue;
  /** Present when REDIS_URL is set (rate limits across nodes). */
  redis: Redis | undefined;
  clock: Clock;
  /** L1 in process, plus L2 in Redis when REDIS_URL is set; each domain takes a namespace of it. */
  cache: Cache;
  /** Hits and misses per tier and namespace, entries, L2 health (/metrics, the admin API). */
  cacheStats(): CacheStats;
  /** Change announcements heard by every process (through Redis when set), for cache invalidation. */
  changes: ChangeBus;
  log: Logger;
  /** Stops the queue, quits Redis, closes a database it opened itself. */
  close(): Promise<void>;
}

/** L1: at most this many entries and ≈ this many bytes of JSON in each process. */
const L1_MAX_ENTRIES = 10_000;
const L1_MAX_CHARS = 64 * 1024 * 1024;
const TTL_JITTER = 0.1;

/**
 * ioredis is loaded only when Redis is configured. Commands fail within a second rather than queue
 * forever; connection errors are reported once per outage (ioredis retries by itself).
 */
async function connectRedis(url: string, log: Logger): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { connectTimeout: 1000, commandTimeout: 1000, maxRetriesPerRequest: 1 });
  let down = false;
  redis.on('error', (error) => {
    if (!down)
      log.warn({ err: error }, 'Redis unreachable: caches fall back to this process and the database');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info('Redis reachable again');
    down = false;
  });
  return redis;
}

function tieredCache(redis: Redis | undefined, prefix: string, log: Logger) {
  const store = new TieredCacheStore({
    l1: new LruCacheStore({ maxEntries: L1_MAX_ENTRIES, maxChars: L1_MAX_CHARS }),
    l2: redis && new RedisCacheStore(redis, `${prefix}cache:`),
    onL2Health: (healthy, error) =>
      healthy
        ? log.info('Redis cache answering again')
        : log.warn({ err: error }, 'Redis cache failing: serving from this process and the database'),
  });
  return { store, cache: cacheOver(store, { jitter: TTL_JITTER }) };
}

async function changeBus(redis: Redis | undefined, prefix: string, log: Logger): Promise<ChangeBus> {
  const onListenerError = (error: unknown, topic: string) =>
    log.warn({ err: error, topic }, 'a change listener failed');
  if (!redis) return new LocalChangeBus(onListenerError);
  const bus = new RedisChangeBus({
    redis,
    subscriber: redis.duplicate({ maxRetriesPerRequest: null, commandTimeout: undefined }),
    prefix: `${prefix}changes:`,
    onListenerError,
    onHealth: (healthy, error) =>
      healthy
        ? log.info('change announcements reach other nodes again')
        : log.warn(
            { err: error },
            'change announcements cannot reach other nodes: their caches expire by TTL',
          ),
  });
  await bus.start();
  return bus;
}

/**
 * Opens (and migrates) the database, the store, the queue and Redis. `database`: one already open
 * (tests share one); it is then not closed here.
 */
export async function openPlatform(
  settings: PlatformSettings,
  options: { log: Logger; database?: Database | undefined },
): Promise<Platform> {
  const { log } = options;
  const database = options.database ?? (await openDatabase(settings));
  const closers: Array<() => Promise<unknown>> = options.database ? [] : [() => database.close()];
  const close = async () => {
    for (const closer of closers) await closer().catch(() => {});
  };
  try {
    await migrate(database.db);
    const replica = settings.databaseReadUrl ? await openPostgres(settings.databaseReadUrl) : undefined;
    if (replica) closers.unshift(() => replica.close());
    const store = await createBlobStore(settings.storage);
    const queue = new PgBossJobQueue(database, settings.jobs);
    closers.unshift(() => queue.stop({ timeoutMs: 10_000 }));
    const redis = settings.redisUrl ? await connectRedis(settings.redisUrl, log) : undefined;
    if (redis) closers.unshift(async () => (redis.status === 'ready' ? redis.quit() : redis.disconnect()));
    const prefix = settings.redisKeyPrefix ?? 'reel:';
    const changes = await changeBus(redis, prefix, log);
    closers.unshift(() => changes.close());
    const { store: cacheStore, cache } = tieredCache(redis, prefix, log);
    return {
      database,
      readDb: replica?.db ?? database.db,
      store,
      queue,
      redis,
      clock: systemClock,
      cache,
      cacheStats: () => cacheStore.stats(),
      changes,
      log,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
