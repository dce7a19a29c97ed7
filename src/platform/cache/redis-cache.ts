import type { Redis } from 'ioredis';
import { type Cache, type CacheStore, cacheOver } from './cache.ts';

/** The commands the store uses: a `Redis` (or `Cluster`) client has them. */
export type RedisCacheClient = Pick<Redis, 'get' | 'set' | 'del'>;

/**
 * The shared store (L2): one Redis serves every API node. Each key is `prefix + key` so several
 * deployments (or test runs) can share a Redis; Redis itself expires keys (`SET … PX ttl`).
 * The client is the caller's (app.ts loads ioredis only when REDIS_URL is set): this store never
 * connects or quits it.
 */
export class RedisCacheStore implements CacheStore {
  readonly #redis: RedisCacheClient;
  readonly #prefix: string;

  constructor(redis: RedisCacheClient, prefix: string) {
    if (prefix === '') throw new RangeError('a Redis cache needs a key prefix, e.g. "reel:cache:"');
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#prefix + key)) ?? undefined;
  }

  async set(key: string, text: string, ttlMs: number): Promise<void> {
    await this.#redis.set(this.#prefix + key, text, 'PX', ttlMs);
  }

  async delete(key: string): Promise<void> {
    await this.#redis.del(this.#prefix + key);
  }
}

/** A Cache in Redis under `prefix`. */
export function createRedisCache(redis: RedisCacheClient, prefix: string): Cache {
  return cacheOver(new RedisCacheStore(redis, prefix));
}
