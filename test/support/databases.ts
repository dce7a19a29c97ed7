import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openPGlite, openPostgres } from '../../src/platform/db/database.ts';
import { migrate } from '../../src/platform/db/migrations.ts';

export interface DatabaseFixture {
  /** Two handles on the same database: two API processes (PostgreSQL) or one process (PGlite). */
  first: Database;
  second: Database;
  cleanup(passed: boolean): Promise<void>;
}

export type OpenFixture = () => Promise<DatabaseFixture>;

/**
 * Runs `suite` against every database Reel supports: PGlite always, PostgreSQL when TEST_DATABASE_URL
 * is set (each run in a database of its own, dropped only when the suite passed so a failure can be
 * inspected). `migrated`: the schema is applied first.
 */
export function forEachDatabase(
  what: string,
  suite: (name: string, open: OpenFixture) => void,
  options: { migrated?: boolean } = {},
): void {
  const prepare = async (fixture: DatabaseFixture) => {
    if (options.migrated) await migrate(fixture.first.db);
    return fixture;
  };
  suite('PGlite (in memory)', async () => {
    const database = await openPGlite(undefined);
    return prepare({ first: database, second: database, cleanup: () => database.close() });
  });
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    console.log(`# TEST_DATABASE_URL not set: the PostgreSQL run of ${what} is not part of this run`);
    return;
  }
  suite('PostgreSQL', async () => {
    const name = `reel_test_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const target = new URL(url);
    target.pathname = `/${name}`;
    const first = await openPostgres(target.toString());
    const second = await openPostgres(target.toString());
    return prepare({
      first,
      second,
      async cleanup(passed) {
        await first.close();
        await second.close();
        if (passed) await admin.query(`drop database ${name}`);
        await admin.end();
      },
    });
  });
}

/** A node:test `it` that remembers a failure, so the fixture's database is kept for inspection. */
export function trackFailures(it: (title: string, body: () => Promise<void>) => unknown) {
  const state = { failed: false };
  const test = (title: string, body: () => Promise<void>) =>
    it(title, async () => {
      try {
        await body();
      } catch (error) {
        state.failed = true;
        throw error;
      }
    });
  return { test, state };
}
