import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../platform/db/database.ts';
import type { BlobStore } from '../platform/storage/blob-store.ts';

export async function healthRoutes(
  app: FastifyInstance,
  options: { db: Db; store: BlobStore },
): Promise<void> {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is up' } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    { schema: { tags: ['health'], summary: 'The database and the storage are reachable' } },
    async (_request, reply) => {
      const checks = await Promise.all([
        check(() => sql`select 1`.execute(options.db)),
        check(() => options.store.ping()),
      ]);
      const body = {
        status: checks.every((c) => c === 'ok') ? 'ok' : 'unavailable',
        database: checks[0],
        storage: checks[1],
      };
      return reply.status(body.status === 'ok' ? 200 : 503).send(body);
    },
  );
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000).unref()),
    ]);
    return 'ok';
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}
