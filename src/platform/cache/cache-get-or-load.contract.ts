import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { CacheSubject } from './cache.contract.ts';
import type { Cache } from './cache.ts';

export const LONG = 60_000;
/** Short enough to keep the suite fast, and waited for with a wide margin so a busy machine cannot flake it. */
export const SHORT = 30;
export const PAST_SHORT = 80;

/** The getOrLoad part of the Cache contract, registered inside `cacheContract`'s suite. */
export function getOrLoadContract(current: () => CacheSubject): void {
  describe('getOrLoad', () => {
    let cache: Cache;
    let subject: CacheSubject;
    before(() => {
      subject = current();
      cache = subject.cache;
    });

    it('loads on a miss, stores the result, and serves it without loading again', async () => {
      let loads = 0;
      const load = async () => ({ n: ++loads });
      assert.deepEqual(await cache.getOrLoad('load-once', LONG, load), { n: 1 });
      assert.deepEqual(await cache.get('load-once'), { n: 1 });
      assert.deepEqual(await cache.getOrLoad('load-once', LONG, load), { n: 1 });
      assert.equal(loads, 1);
    });

    it('calls load once for 50 concurrent misses, and gives each waiter its own copy', async () => {
      let loads = 0;
      const gate = Promise.withResolvers<void>();
      const source = { items: ['a'] };
      const load = async () => {
        loads++;
        await gate.promise;
        return source;
      };
      const waiting = Array.from({ length: 50 }, () => cache.getOrLoad('single-flight', LONG, load));
      gate.resolve();
      const results = await Promise.all(waiting);
      assert.equal(loads, 1);
      for (const result of results) assert.deepEqual(result, { items: ['a'] });
      assert.notEqual(results[0], results[1]);
      assert.notEqual(results[0], source);
      results[0]!.items.push('b');
      source.items.push('c');
      assert.deepEqual(results[1], { items: ['a'] });
      assert.deepEqual(await cache.get('single-flight'), { items: ['a'] });
    });

    it('a TTL chosen by the value: 0 keeps that value out, a positive one stores it', async () => {
      let loads = 0;
      const ttlOf = (value: { state: string }) => (value.state === 'changing' ? 0 : LONG);
      const changing = async () => ({ state: 'changing', n: ++loads });
      assert.deepEqual(await cache.getOrLoad('ttl-by-value', ttlOf, changing), { state: 'changing', n: 1 });
      assert.equal(await cache.get('ttl-by-value'), undefined);
      assert.deepEqual(await cache.getOrLoad('ttl-by-value', ttlOf, changing), { state: 'changing', n: 2 });
      const settled = async () => ({ state: 'settled', n: ++loads });
      assert.deepEqual(await cache.getOrLoad('ttl-by-value', ttlOf, settled), { state: 'settled', n: 3 });
      assert.deepEqual(await cache.getOrLoad('ttl-by-value', ttlOf, settled), { state: 'settled', n: 3 });
    });

    it('does not cache a failure: every waiter gets the error, the next call loads again', async () => {
      const boom = new Error('origin down');
      let loads = 0;
      const failing = async () => {
        loads++;
        await new Promise((resolve) => setImmediate(resolve));
        throw boom;
      };
      const waiting = [1, 2, 3].map(() => cache.getOrLoad('load-fails', LONG, failing));
      for (const attempt of waiting) await assert.rejects(attempt, (error) => error === boom);
      assert.equal(loads, 1);
      assert.equal(await cache.get('load-fails'), undefined);
      assert.equal(await cache.getOrLoad('load-fails', LONG, async () => 'recovered'), 'recovered');
      await assert.rejects(
        cache.getOrLoad('load-undefined', LONG, async () => undefined),
        TypeError,
      );
    });

    it('stores the loaded value for the TTL it was given', async () => {
      let loads = 0;
      const load = async () => ++loads;
      assert.equal(await cache.getOrLoad('load-ttl', SHORT, load), 1);
      await subject.elapse(PAST_SHORT);
      assert.equal(await cache.getOrLoad('load-ttl', SHORT, load), 2);
    });

    it('keeps a set or delete that happens during a load, instead of the older loaded value', async () => {
      for (const change of ['set', 'delete'] as const) {
        const key = `load-superseded-${change}`;
        const gate = Promise.withResolvers<string>();
        const loading = cache.getOrLoad(key, LONG, () => gate.promise);
        if (change === 'set') await cache.set(key, 'newer', { ttlMs: LONG });
        else await cache.delete(key);
        // The next getOrLoad does not join the superseded load.
        const fresh = cache.getOrLoad(key, LONG, async () => 'fresh');
        gate.resolve('stale');
        assert.equal(await loading, 'stale', 'the first caller still gets what it loaded');
        assert.equal(await fresh, change === 'set' ? 'newer' : 'fresh');
        assert.equal(await cache.get(key), change === 'set' ? 'newer' : 'fresh');
      }
    });
  });
}
