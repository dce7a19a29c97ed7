import type { Redis } from 'ioredis';

/** ioredis is loaded only when a Redis is there to test, as the platform does. `ready`: wait until connected. */
export async function connectTestRedis(url: string, options: { ready?: boolean } = {}): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { connectTimeout: 1000, commandTimeout: 1000, maxRetriesPerRequest: 1 });
  redis.on('error', () => {}); // a test of an unreachable Redis expects errors
  if (options.ready && redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

/** Every key of a test run lives under one random prefix, removed when the suite ends. */
export async function deleteUnder(redis: Redis, prefix: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) {
    if ((keys as string[]).length > 0) await redis.unlink(...(keys as string[]));
  }
}
