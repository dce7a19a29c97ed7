import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { databaseContract } from './database.contract.ts';
import { openPGlite, openPostgres } from './database.ts';

databaseContract('PGlite (in memory)', async () => {
  const database = await openPGlite(undefined);
  return { first: database, second: database, cleanup: () => database.close() };
});

const url = process.env.TEST_DATABASE_URL;
if (url) {
  databaseContract('PostgreSQL', async () => {
    // A database of its own, dropped only when the suite passed so a failure can be inspected.
    const name = `reel_test_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const target = new URL(url);
    target.pathname = `/${name}`;
    const first = await openPostgres(target.toString());
    const second = await openPostgres(target.toString());
    return {
      first,
      second,
      async cleanup(passed) {
        await first.close();
        await second.close();
        if (passed) await admin.query(`drop database ${name}`);
        await admin.end();
      },
    };
  });
} else {
  console.log(
    '# TEST_DATABASE_URL not set: the PostgreSQL run of the database contract is not part of this run',
  );
}
