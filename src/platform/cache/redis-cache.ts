import type { Redis } from 'ioredis';
import { type Cache, type CacheStore, cacheOver } from './cache.ts';

/** The commands the store uses: a `Redis` (or `Cluster`) client has them. */
export type RedisCacheClient = Pick<Redis, 'get' | 'set' | 'del' | 'pttl' | 'status'>;

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

  /** The value and the milliseconds it has left (for a tier in front of this one), or undefined. */
  async entry(key: string): Promise<{ text: string; ttlMs: number } | undefined> {
    const [text, ttlMs] = await Promise.all([
      this.#redis.get(this.#prefix + key),
      this.#redis.pttl(this.#prefix + key),
    ]);
    return text === null || ttlMs <= 0 ? undefined : { text, ttlMs };
  }

  /** Whether the connection is up: while it is not, a tier in front skips this one instead of waiting. */
  get connected(): boolean {
    return this.#redis.status === 'ready';
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
