import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { connectTestRedis } from '../../../test/support/redis.ts';
import { changeBusContract } from './change-bus.contract.ts';
import { LocalChangeBus } from './change-bus.ts';
import { RedisChangeBus } from './redis-change-bus.ts';

const redisUrl = process.env.TEST_REDIS_URL;
const noRedis = 'TEST_REDIS_URL not set: the Redis change bus needs a Redis server';

/** A bus on its own connections; every bus made with one `prefix` is one deployment. */
async function redisBus(url: string, prefix: string, onHealth?: (healthy: boolean) => void) {
  const redis = await connectTestRedis(url);
  const bus = new RedisChangeBus({ redis, subscriber: redis.duplicate(), prefix, onHealth });
  await bus.start();
  return {
    bus,
    async cleanup() {
      await bus.close();
      redis.disconnect();
    },
  };
}

changeBusContract('local', async () => ({ bus: new LocalChangeBus(), cleanup: async () => {} }));

changeBusContract(
  'Redis',
  async () => redisBus(redisUrl!, `reel-test:changes:${randomBytes(6).toString('hex')}:`),
  redisUrl ? undefined : noRedis,
);

describe('RedisChangeBus across processes', { skip: redisUrl ? undefined : noRedis }, () => {
  const prefix = `reel-test:changes:${randomBytes(6).toString('hex')}:`;
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('another node hears a change within a second, and its generation moves', async () => {
    const a = await redisBus(redisUrl!, prefix);
    const b = await redisBus(redisUrl!, prefix);
    cleanups.push(a.cleanup, b.cleanup);
    const heardIds: string[] = [];
    const heard = new Promise<string>((resolve) =>
      b.bus.subscribe('video', (id) => {
        heardIds.push(id);
        if (heardIds.length === 2) resolve(heardIds.join(','));
      }),
    );
    await waitFor(() => !b.bus.generation('video').startsWith('boot-'));
    const before = b.bus.generation('video');
    const started = Date.now();
    await a.bus.publish('video', ['v42', 'v43']);
    assert.equal(await heard, 'v42,v43');
    assert.ok(Date.now() - started < 1000, `heard after ${Date.now() - started} ms`);
    assert.notEqual(b.bus.generation('video'), before);
    // Both nodes name the same generation once they heard the same changes: L2 entries are shared.
    assert.equal(b.bus.generation('video'), a.bus.generation('video'));
  });

  it('a node whose Redis is unreachable still applies its own changes at once, and says so once', async () => {
    const health: boolean[] = [];
    const dead = await redisBus('redis://127.0.0.1:1', prefix, (healthy) => health.push(healthy));
    cleanups.push(dead.cleanup);
    const heard: string[] = [];
    dead.bus.subscribe('video', (id) => void heard.push(id));
    const before = dead.bus.generation('video');
    const started = Date.now();
    await dead.bus.publish('video', 'v1');
    await dead.bus.publish('video', 'v2');
    assert.ok(Date.now() - started < 200, `publish waited ${Date.now() - started} ms for a dead Redis`);
    assert.deepEqual(heard, ['v1', 'v2']);
    assert.notEqual(dead.bus.generation('video'), before);
    assert.deepEqual(health, [false]);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
