import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { connectTestRedis, deleteUnder } from '../../../test/support/redis.ts';
import { ManualClock } from '../clock.ts';
import { cacheContract } from './cache.contract.ts';
import { cacheOver } from './cache.ts';
import { createLruCache, LruCacheStore } from './lru-cache.ts';
import { createRedisCache } from './redis-cache.ts';

cacheContract('LRU (system clock, real time)', async () => ({
  cache: createLruCache({ maxEntries: 1000 }),
  elapse: (ms) => sleep(ms),
  cleanup: async () => {},
}));

cacheContract('LRU (manual clock)', async () => {
  const clock = new ManualClock();
  return {
    cache: createLruCache({ maxEntries: 1000, clock }),
    elapse: async (ms) => clock.advance(ms),
    cleanup: async () => {},
  };
});

const redisUrl = process.env.TEST_REDIS_URL;
const noRedis = 'TEST_REDIS_URL not set: the Redis run of the cache contract needs a Redis server';

cacheContract(
  'Redis',
  async () => {
    const redis = await connectTestRedis(redisUrl!, { ready: true });
    const prefix = `reel-test:${randomBytes(6).toString('hex')}:`;
    return {
      cache: createRedisCache(redis, prefix),
      elapse: (ms) => sleep(ms),
      async cleanup() {
        await deleteUnder(redis, prefix);
        await redis.quit();
      },
    };
  },
  { skip: redisUrl ? undefined : noRedis },
);

if (!redisUrl) it('Redis cache store', { skip: noRedis }, () => {});
else
  describe('Redis cache store', () => {
    let redis: Redis;
    const prefix = `reel-test:${randomBytes(6).toString('hex')}:`;
    before(async () => {
      redis = await connectTestRedis(redisUrl!, { ready: true });
    });
    after(async () => {
      await deleteUnder(redis, prefix);
      await redis.quit();
    });

    it('writes JSON text under prefix + namespace path + key, with a millisecond TTL', async () => {
      const cache = createRedisCache(redis, prefix).namespace('catalog').namespace('videos');
      await cache.set('v1', { title: 'x' }, { ttlMs: 5000 });
      const key = `${prefix}catalog/videos:v1`;
      assert.equal(await redis.get(key), '{"title":"x"}');
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 0 && ttl <= 5000, `PTTL ${ttl}`);
    });

    it('refuses an empty prefix, which would share the key space with everything else', () => {
      assert.throws(() => createRedisCache(redis, ''), RangeError);
    });
  });

describe('LRU cache store', () => {
  it('keeps a value for exactly its TTL and drops it one millisecond later', async () => {
    const clock = new ManualClock();
    const cache = createLruCache({ maxEntries: 10, clock });
    await cache.set('k', 'v', { ttlMs: 100 });
    clock.advance(100);
    assert.equal(await cache.get('k'), 'v');
    clock.advance(1);
    assert.equal(await cache.get('k'), undefined);
  });

  it('expires against its clock even at the epoch', async () => {
    const clock = new ManualClock(0);
    const cache = createLruCache({ maxEntries: 10, clock });
    await cache.set('k', 'v', { ttlMs: 10 });
    clock.advance(11);
    assert.equal(await cache.get('k'), undefined);
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = createLruCache({ maxEntries: 2 });
    await cache.set('a', 1, { ttlMs: 60_000 });
    await cache.set('b', 2, { ttlMs: 60_000 });
    await cache.get('a');
    await cache.set('c', 3, { ttlMs: 60_000 });
    assert.deepEqual([await cache.get('a'), await cache.get('b'), await cache.get('c')], [1, undefined, 3]);
  });

  it('bounds the characters held, and does not keep an entry larger than the bound', async () => {
    const store = new LruCacheStore({ maxEntries: 100, maxChars: 100 });
    const cache = cacheOver(store);
    for (let i = 0; i < 10; i++) await cache.set(`k${i}`, 'x'.repeat(20), { ttlMs: 60_000 });
    assert.ok(store.size <= 4, `${store.size} entries of ~26 chars kept under 100`);
    assert.equal(await cache.get('k9'), 'x'.repeat(20));
    await cache.set('k9', 'y'.repeat(200), { ttlMs: 60_000 });
    assert.equal(
      await cache.get('k9'),
      undefined,
      'an oversized value is not kept, and the older one is not served in its place',
    );
  });

  it('drops an expired entry when it is read', async () => {
    const clock = new ManualClock();
    const store = new LruCacheStore({ maxEntries: 10, clock });
    await store.set('k', '"v"', 5);
    clock.advance(6);
    assert.equal(await store.get('k'), undefined);
    assert.equal(store.size, 0);
  });

  it('refuses a bound that is not a whole number of entries', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new LruCacheStore({ maxEntries }), RangeError);
    }
  });
});
