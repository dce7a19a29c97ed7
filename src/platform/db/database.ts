import fs from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { fuzzystrmatch } from '@electric-sql/pglite/contrib/fuzzystrmatch';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import { fromKysely, fromPglite } from 'pg-boss';
import { PGliteSession } from './pglite-pool.ts';
import type { Schema } from './schema.ts';

export type Db = Kysely<Schema>;
export type Tx = Transaction<Schema>;
export type DbOrTx = Db | Tx;

/** Runs raw SQL: the shape pg-boss's `db` option expects. */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface Database extends SqlExecutor {
  kind: 'pglite' | 'postgres';
  db: Db;
  close(): Promise<void>;
}

// int8 (counts, byte sizes) as numbers: every size Reel stores is below 2^53.
const INT8 = 20;

export async function openPostgres(
  connectionString: string,
  options: { max?: number } = {},
): Promise<Database> {
  const { default: pg } = await import('pg'); // loaded only in PostgreSQL mode
  pg.types.setTypeParser(INT8, (value: string) => Number(value));
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
  pool.on('error', () => {}); // idle-client errors surface on the next query instead of crashing
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    db,
    async executeSql(text, values) {
      const result = await pool.query(text, values as unknown[]);
      return { rows: result.rows };
    },
    async close() {
      await db.destroy();
    },
  };
}

/** Embedded PostgreSQL. `dataDir` undefined → in memory (tests). */
export async function openPGlite(dataDir: string | undefined): Promise<Database> {
  if (dataDir) await fs.mkdir(path.dirname(dataDir), { recursive: true });
  const pglite = await PGlite.create(dataDir, {
    extensions: { pg_trgm, fuzzystrmatch },
    // PGlite's default buffers cost ≈ 300 MB of WASM memory; Reel's embedded database is small and hot.
    // Measured: process RSS with the database open 533 MB → 231 MB.
    postgresqlconf: ['shared_buffers=16MB', 'wal_buffers=1MB', 'temp_buffers=1MB', 'max_connections=5'],
    parsers: { [INT8]: (value: string) => Number(value) },
  });
  const session = new PGliteSession(pglite);
  // The adapter implements the query(text, params) overload Kysely uses, not pg's cursor overload.
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: session.pool() as never }) });
  return {
    kind: 'pglite',
    db,
    // pg-boss's adapter sends parameterless (possibly multi-statement) SQL to exec; both go through
    // the session lock so they never land inside another caller's transaction.
    executeSql: fromPglite({
      query: (text, params) => session.run(() => pglite.query(text, params)),
      exec: (text) => session.run(() => pglite.exec(text)),
    }).executeSql,
    async close() {
      await db.destroy();
      await session.run(() => pglite.close());
    },
  };
}

/** An executor bound to a transaction, so a pg-boss job commits with the row it refers to. */
export function transactionExecutor(trx: Tx): SqlExecutor {
  return fromKysely(trx);
}

/** The database a deployment names: PostgreSQL when `databaseUrl` is set, else embedded PGlite under `dataDir`. */
export function openDatabase(settings: {
  databaseUrl: string | undefined;
  dataDir: string;
}): Promise<Database> {
  return settings.databaseUrl
    ? openPostgres(settings.databaseUrl)
    : openPGlite(path.join(settings.dataDir, 'db'));
}
