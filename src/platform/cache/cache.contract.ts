import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cache } from './cache.ts';
import { getOrLoadContract, LONG, PAST_SHORT, SHORT } from './cache-get-or-load.contract.ts';

export interface CacheSubject {
  /** An empty cache. */
  cache: Cache;
  /** Lets `ms` milliseconds pass for the cache (a real sleep, or advancing its ManualClock). */
  elapse(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

export interface CacheContractOptions {
  /** Why this backend cannot run here: the suite is reported as skipped with this reason. */
  skip?: string;
}

/** The behaviour every Cache must have. Registers a node:test suite; `make` is called once. */
export function cacheContract(
  name: string,
  make: () => Promise<CacheSubject>,
  options: CacheContractOptions = {},
) {
  const title = `Cache contract: ${name}`;
  if (options.skip) {
    it(title, { skip: options.skip }, () => {});
    return;
  }
  describe(title, () => {
    let subject: CacheSubject;
    let cache: Cache;
    before(async () => {
      subject = await make();
      cache = subject.cache;
    });
    after(() => subject?.cleanup());

    it('misses with undefined', async () => {
      assert.equal(await cache.get('never-set'), undefined);
    });

    it('round-trips JSON values, telling falsy values apart from a miss', async () => {
      const values = [
        { id: 'v1', title: 'Ünïcode "quoted"', tags: ['a', 'b'], nested: { n: 1, none: null } },
        [1, 'two', null, { three: 3 }, []],
        0,
        -1.5,
        42,
        '',
        'text',
        true,
        false,
        null,
      ];
      for (const [index, value] of values.entries()) {
        await cache.set(`round-trip-${index}`, value, { ttlMs: LONG });
        assert.deepEqual(await cache.get(`round-trip-${index}`), value, `value ${index}`);
      }
    });

    it('stores what JSON makes of a value, alike in every backend', async () => {
      const at = new Date('2024-05-06T07:08:09.010Z');
      await cache.set('json-shape', { at, skipped: undefined, list: [undefined] }, { ttlMs: LONG });
      assert.deepEqual(await cache.get('json-shape'), { at: at.toISOString(), list: [null] });
    });

    it('refuses values that are not JSON and TTLs that are not whole positive milliseconds', async () => {
      await cache.set('refused', 'kept', { ttlMs: LONG });
      for (const value of [undefined, () => 1, Symbol('s'), 10n]) {
        await assert.rejects(cache.set('refused', value, { ttlMs: LONG }), TypeError);
      }
      for (const ttlMs of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await assert.rejects(cache.set('refused', 'other', { ttlMs }), RangeError);
        await assert.rejects(
          cache.getOrLoad('refused-load', ttlMs, async () => 'x'),
          RangeError,
        );
      }
      await assert.rejects(cache.get(''), TypeError);
      assert.equal(await cache.get('refused'), 'kept', 'a refused set changes nothing');
      assert.equal(await cache.get('refused-load'), undefined);
    });

    it('overwrites, and deletes (a missing key too)', async () => {
      await cache.set('overwrite', { v: 1 }, { ttlMs: LONG });
      await cache.set('overwrite', [2], { ttlMs: LONG });
      assert.deepEqual(await cache.get('overwrite'), [2]);
      await cache.delete('overwrite');
      assert.equal(await cache.get('overwrite'), undefined);
      await cache.delete('overwrite');
      await cache.delete('never-set');
    });

    it('expires a value after its TTL; an overwrite replaces the TTL', async () => {
      await cache.set('ttl-short', 'short', { ttlMs: SHORT });
      await cache.set('ttl-long', 'long', { ttlMs: LONG });
      await cache.set('ttl-extended', 'extended', { ttlMs: SHORT });
      await cache.set('ttl-extended', 'extended', { ttlMs: LONG });
      await cache.set('ttl-shortened', 'shortened', { ttlMs: LONG });
      await cache.set('ttl-shortened', 'shortened', { ttlMs: SHORT });
      await subject.elapse(PAST_SHORT);
      assert.equal(await cache.get('ttl-short'), undefined);
      assert.equal(await cache.get('ttl-long'), 'long');
      assert.equal(await cache.get('ttl-extended'), 'extended');
      assert.equal(await cache.get('ttl-shortened'), undefined);
    });

    it('never lets a caller change a cached value', async () => {
      const original = { list: [1, 2], inner: { x: 1 } };
      await cache.set('alias', original, { ttlMs: LONG });
      original.list.push(3);
      original.inner.x = 99;
      const read = await cache.get<typeof original>('alias');
      assert.deepEqual(read, { list: [1, 2], inner: { x: 1 } });
      read!.list.push(4);
      assert.deepEqual(await cache.get('alias'), { list: [1, 2], inner: { x: 1 } });
      assert.notEqual(await cache.get('alias'), await cache.get('alias'));
    });

    getOrLoadContract(() => subject);

    describe('namespaces', () => {
      it('keep equal keys of different namespaces apart', async () => {
        const videos = cache.namespace('videos');
        const users = cache.namespace('users');
        await videos.set('k', 'video', { ttlMs: LONG });
        await users.set('k', 'user', { ttlMs: LONG });
        await cache.set('k', 'root', { ttlMs: LONG });
        assert.equal(await videos.get('k'), 'video');
        assert.equal(await users.get('k'), 'user');
        assert.equal(await cache.get('k'), 'root');
        assert.equal(await cache.namespace('videos').get('k'), 'video', 'a namespace is found again by name');
        await videos.delete('k');
        assert.equal(await users.get('k'), 'user');
        assert.equal(await cache.get('k'), 'root');
      });

      it('keep a key with a colon apart from a nested namespace and from the parent', async () => {
        const outer = cache.namespace('outer');
        await outer.set('inner:k', 'colon key', { ttlMs: LONG });
        await outer.namespace('inner').set('k', 'nested', { ttlMs: LONG });
        await cache.set('outer:inner:k', 'root colon key', { ttlMs: LONG });
        assert.equal(await outer.get('inner:k'), 'colon key');
        assert.equal(await outer.namespace('inner').get('k'), 'nested');
        assert.equal(await cache.get('outer:inner:k'), 'root colon key');
      });

      it('load separately for the same key in two namespaces', async () => {
        const loads: string[] = [];
        const [a, b] = await Promise.all(
          ['ns-a', 'ns-b'].map((name) =>
            cache.namespace(name).getOrLoad('same', LONG, async () => {
              loads.push(name);
              return name;
            }),
          ),
        );
        assert.deepEqual([a, b], ['ns-a', 'ns-b']);
        assert.deepEqual(loads.sort(), ['ns-a', 'ns-b']);
      });

      it('refuse names that could make keys ambiguous', () => {
        for (const name of ['', 'a:b', 'a/b', 'a b', '*']) {
          assert.throws(() => cache.namespace(name), RangeError, JSON.stringify(name));
        }
      });
    });
  });
}
