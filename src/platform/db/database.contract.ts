import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { DatabaseFixture } from '../../../test/support/databases.ts';
import { trackFailures } from '../../../test/support/databases.ts';
import { defineJob, PgBossJobQueue } from '../queue/job-queue.ts';
import { transactionExecutor } from './database.ts';
import { migrate } from './migrations.ts';

const QUEUE_SETTINGS = {
  retryLimit: 1,
  retryDelaySeconds: 1,
  heartbeatSeconds: 10,
  monitorIntervalSeconds: 10,
};
const contractJob = defineJob<{ marker: string }>('contract.job', () => ({ expireInSeconds: 60 }));

/**
 * What Reel relies on from its database, whichever it is (PGlite, PostgreSQL): migrations, the JS
 * types of values, transactions across two handles, jobs committed with a transaction. Repositories
 * have their own contracts in their domains (e.g. uploads/upload-repository.contract.ts).
 */
export function databaseContract(name: string, open: () => Promise<DatabaseFixture>): void {
  describe(`database contract: ${name}`, () => {
    let fixture: DatabaseFixture;
    const { test, state } = trackFailures(it);
    before(async () => {
      fixture = await open();
      await migrate(fixture.first.db);
      await sql`create table contract_values (id text primary key, big bigint, tags text[], doc jsonb,
        ratio double precision, at timestamptz default now())`.execute(fixture.first.db);
    });
    after(async () => {
      await sql`drop table if exists contract_values`.execute(fixture.first.db).catch(() => {});
      await fixture?.cleanup(!state.failed);
    });

    test('job queues starting together on a new database all start (pg-boss installs once)', async () => {
      const queues = [
        new PgBossJobQueue(fixture.first, QUEUE_SETTINGS),
        new PgBossJobQueue(fixture.second, QUEUE_SETTINGS),
      ];
      await Promise.all(queues.map((queue) => queue.start([contractJob])));
      await Promise.all(queues.map((queue) => queue.stop({ timeoutMs: 1000 })));
    });

    test('migrations are idempotent, including concurrent runs', async () => {
      const runs = await Promise.all([migrate(fixture.first.db), migrate(fixture.second.db)]);
      assert.deepEqual(runs, [[], []]);
    });

    test('big integers, arrays, JSON, doubles and timestamps round-trip with their JS types', async () => {
      await sql`insert into contract_values (id, big, tags, doc, ratio)
        values ('a', ${6 * 1024 ** 3}, ${['x', 'y z']}, ${JSON.stringify({ streams: [{ codec_name: 'h264' }] })}, 29.97)`.execute(
        fixture.first.db,
      );
      const { rows } = await sql<{ big: number; tags: string[]; doc: unknown; ratio: number; at: Date }>`
        select big, tags, doc, ratio, at from contract_values where id = 'a'`.execute(fixture.second.db);
      const row = rows[0]!;
      assert.equal(row.big, 6 * 1024 ** 3);
      assert.equal(typeof row.big, 'number');
      assert.deepEqual(row.tags, ['x', 'y z']);
      assert.deepEqual(row.doc, { streams: [{ codec_name: 'h264' }] });
      assert.equal(row.ratio, 29.97);
      assert.ok(row.at instanceof Date);
    });

    test('a job enqueued in a transaction commits and rolls back with it', async () => {
      const queue = new PgBossJobQueue(fixture.first, QUEUE_SETTINGS);
      await queue.start([contractJob]);
      try {
        const committed = await fixture.first.db.transaction().execute(async (tx) => {
          await sql`insert into contract_values (id) values ('committed')`.execute(tx);
          return queue.send(contractJob, { marker: 'committed-1' }, { tx: transactionExecutor(tx) });
        });
        assert.ok(committed);
        await assert.rejects(
          fixture.first.db.transaction().execute(async (tx) => {
            await sql`insert into contract_values (id) values ('rolled-back')`.execute(tx);
            await queue.send(contractJob, { marker: 'rolled-back' }, { tx: transactionExecutor(tx) });
            throw new Error('boom');
          }),
          /boom/,
        );
        const jobs = await sql<{ data: { marker: string }; expire_seconds: number }>`
          select data, expire_seconds from pgboss.job where name = ${contractJob.name}`.execute(
          fixture.first.db,
        );
        const markers = jobs.rows.map((job) => job.data.marker);
        assert.ok(markers.includes('committed-1'));
        assert.ok(!markers.includes('rolled-back'));
        assert.equal(jobs.rows[0]?.expire_seconds, 60, "the definition's options are applied");
        const values = await sql<{ id: string }>`select id from contract_values`.execute(fixture.first.db);
        const ids = values.rows.map((r) => r.id);
        assert.ok(ids.includes('committed'));
        assert.ok(!ids.includes('rolled-back'));
      } finally {
        await queue.stop({ timeoutMs: 1000 });
      }
    });
  });
}
