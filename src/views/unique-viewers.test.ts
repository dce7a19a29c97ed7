import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { forEachDatabase } from '../../test/support/databases.ts';
import { connectTestRedis, deleteUnder } from '../../test/support/redis.ts';
import { uniqueViewersContract } from './unique-viewers.contract.ts';
import { DatabaseUniqueViewers, RedisUniqueViewers, splitRange } from './unique-viewers.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const D0 = Date.UTC(2026, 11, 1);

describe('splitRange', () => {
  it('whole days, and the hours of the days a range only partly covers', () => {
    assert.deepEqual(splitRange(D0, D0 + 2 * DAY), { days: [D0, D0 + DAY], partialDays: [] });
    assert.deepEqual(splitRange(D0 + 22 * HOUR, D0 + DAY + 2 * HOUR), {
      days: [],
      partialDays: [
        [D0 + 22 * HOUR, D0 + 23 * HOUR],
        [D0 + DAY, D0 + DAY + HOUR],
      ],
    });
    assert.deepEqual(splitRange(D0 + 23 * HOUR, D0 + 2 * DAY), {
      days: [D0 + DAY],
      partialDays: [[D0 + 23 * HOUR]],
    });
    assert.deepEqual(splitRange(D0, D0), { days: [], partialDays: [] });
  });
});

forEachDatabase(
  'the exact unique viewers',
  (name, open) =>
    uniqueViewersContract(`database (${name})`, async () => {
      const fixture = await open();
      return { viewers: new DatabaseUniqueViewers(fixture.first.db), cleanup: () => fixture.cleanup(true) };
    }),
  { migrated: true },
);

const redisUrl = process.env.TEST_REDIS_URL;
uniqueViewersContract(
  'Redis HyperLogLog',
  async () => {
    const redis = await connectTestRedis(redisUrl!, { ready: true });
    const prefix = `reel-test:${randomBytes(6).toString('hex')}:`;
    return {
      viewers: new RedisUniqueViewers(redis, prefix),
      async cleanup() {
        await deleteUnder(redis, prefix);
        await redis.quit();
      },
    };
  },
  redisUrl ? undefined : 'TEST_REDIS_URL not set: the HyperLogLog run needs a Redis server',
);
