import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { connectTestRedis, deleteUnder } from '../../../test/support/redis.ts';
import { cacheContract } from './cache.contract.ts';
import { type CacheStore, cacheOver, jittered } from './cache.ts';
import { LruCacheStore } from './lru-cache.ts';
import { RedisCacheStore } from './redis-cache.ts';
import { type SharedTier, TieredCacheStore } from './tiered-cache.ts';

const redisUrl = process.env.TEST_REDIS_URL;
const noRedis = 'TEST_REDIS_URL not set: the tiered cache over Redis needs a Redis server';

const lru = () => new LruCacheStore({ maxEntries: 1000 });

describe('TTL jitter', () => {
  it('spreads a TTL over [90 %, 110 %) with jitter 0.1, never below 1 ms', () => {
    assert.equal(jittered(10_000, 0.1, 0), 9000);
    assert.equal(jittered(10_000, 0.1, 0.5), 10_000);
    assert.equal(jittered(10_000, 0.1, 0.999_999), 11_000);
    assert.equal(jittered(1, 0.1, 0), 1);
  });

  it('every TTL a cache stores lies within the bounds, and they differ', async () => {
    const stored: number[] = [];
    const recording: CacheStore = {
      get: async () => undefined,
      set: async (_key, _text, ttlMs) => void stored.push(ttlMs),
      delete: async () => {},
    };
    const cache = cacheOver(recording, { jitter: 0.1 });
    for (let i = 0; i < 500; i++) await cache.set(`k${i}`, i, { ttlMs: 30_000 });
    for (let i = 0; i < 500; i++) await cache.getOrLoad(`l${i}`, 30_000, async () => i);
    assert.equal(stored.length, 1000);
    assert.ok(
      Math.min(...stored) >= 27_000 && Math.max(...stored) <= 33_000,
      `${Math.min(...stored)}…${Math.max(...stored)}`,
    );
    assert.ok(new Set(stored).size > 100, 'the TTLs are spread, not one value');
  });

  it('refuses a jitter outside [0, 1)', () => {
    assert.throws(() => cacheOver(lru(), { jitter: 1 }), RangeError);
    assert.throws(() => cacheOver(lru(), { jitter: -0.1 }), RangeError);
  });
});

/** A shared tier whose every command fails, as a Redis that broke mid-session does. */
function brokenTier(): SharedTier & { failing: boolean } {
  const tier = {
    failing: true,
    connected: true,
    async entry() {
      if (tier.failing) throw new Error('READONLY or the like');
      return undefined;
    },
    async get() {
      return undefined;
    },
    async set() {
      if (tier.failing) throw new Error('READONLY or the like');
    },
    async delete() {
      if (tier.failing) throw new Error('READONLY or the like');
    },
  };
  return tier;
}

describe('TieredCacheStore without a reachable L2', () => {
  it('a failing L2 is a miss: reads fall through to the loader, reported once, and once recovered', async () => {
    const tier = brokenTier();
    const reports: boolean[] = [];
    const store = new TieredCacheStore({
      l1: lru(),
      l2: tier,
      onL2Health: (healthy) => reports.push(healthy),
    });
    const cache = cacheOver(store).namespace('catalog');
    let loads = 0;
    assert.equal(await cache.getOrLoad('a', 60_000, async () => ++loads), 1);
    assert.equal(await cache.getOrLoad('a', 60_000, async () => ++loads), 1, 'L1 still serves');
    await cache.delete('a');
    assert.equal(await cache.getOrLoad('a', 60_000, async () => ++loads), 2);
    assert.deepEqual(reports, [false]);
    tier.failing = false;
    await cache.set('b', 1, { ttlMs: 60_000 });
    assert.deepEqual(reports, [false, true]);
    const stats = store.stats();
    assert.equal(stats.l2Errors, 5); // read, write, delete, read, write: each failed once
    assert.deepEqual(stats.namespaces.catalog, { l1Hits: 1, l2Hits: 0, misses: 2 });
  });

  it('a Redis that was never reachable is skipped without waiting', {
    skip: redisUrl ? undefined : noRedis,
  }, async () => {
    const dead = await connectTestRedis('redis://127.0.0.1:1');
    try {
      const store = new TieredCacheStore({ l1: lru(), l2: new RedisCacheStore(dead, 'reel-test:') });
      const cache = cacheOver(store);
      const started = Date.now();
      assert.equal(await cache.getOrLoad('k', 60_000, async () => 'from the database'), 'from the database');
      await cache.set('k2', 1, { ttlMs: 1000 });
      await cache.delete('k2');
      assert.ok(Date.now() - started < 100, `took ${Date.now() - started} ms`);
      assert.equal(store.stats().l2, 'down');
    } finally {
      dead.disconnect();
    }
  });
});

if (!redisUrl) it('TieredCacheStore over Redis', { skip: noRedis }, () => {});
else
  describe('TieredCacheStore over Redis', () => {
    let redis: Redis;
    const prefix = `reel-test:${randomBytes(6).toString('hex')}:`;
    before(async () => {
      redis = await connectTestRedis(redisUrl!, { ready: true });
    });
    after(async () => {
      await deleteUnder(redis, prefix);
      await redis.quit();
    });

    /** One node: its own L1, the shared Redis as L2. */
    const node = () => {
      const store = new TieredCacheStore({ l1: lru(), l2: new RedisCacheStore(redis, prefix) });
      return { store, cache: cacheOver(store).namespace('catalog') };
    };

    it('a value one node loaded is an L2 hit on another, then an L1 hit there', async () => {
      const a = node();
      const b = node();
      let loads = 0;
      await a.cache.getOrLoad('page', 60_000, async () => ({ n: ++loads }));
      assert.deepEqual(await b.cache.getOrLoad('page', 60_000, async () => ({ n: ++loads })), { n: 1 });
      assert.deepEqual(await b.cache.getOrLoad('page', 60_000, async () => ({ n: ++loads })), { n: 1 });
      assert.equal(loads, 1);
      assert.deepEqual(b.store.stats().namespaces.catalog, { l1Hits: 1, l2Hits: 1, misses: 0 });
      assert.equal(b.store.stats().l2, 'up');
    });

    it('an L2 hit is kept in L1 only for the time it had left', async () => {
      const a = node();
      const b = node();
      await a.cache.set('short', 'x', { ttlMs: 150 });
      await sleep(50);
      assert.equal(await b.cache.get('short'), 'x'); // copied into b's L1 with ≈ 100 ms left
      await sleep(250);
      assert.equal(await b.cache.get('short'), undefined);
    });

    it('a delete on one node removes the shared copy', async () => {
      const a = node();
      const b = node();
      await a.cache.set('gone', 1, { ttlMs: 60_000 });
      await b.cache.delete('gone');
      assert.equal(await node().cache.get('gone'), undefined);
    });
  });

cacheContract(
  'tiered (LRU + Redis)',
  async () => {
    const redis = await connectTestRedis(redisUrl!, { ready: true });
    const prefix = `reel-test:${randomBytes(6).toString('hex')}:`;
    return {
      cache: cacheOver(new TieredCacheStore({ l1: lru(), l2: new RedisCacheStore(redis, prefix) })),
      elapse: (ms) => sleep(ms),
      async cleanup() {
        await deleteUnder(redis, prefix);
        await redis.quit();
      },
    };
  },
  { skip: redisUrl ? undefined : noRedis },
);
