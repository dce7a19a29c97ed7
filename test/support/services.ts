import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiKeys } from '../../src/auth/api-keys.ts';
import type { Principal, Role } from '../../src/auth/principal.ts';
import { AppError } from '../../src/errors.ts';
import { ManualClock } from '../../src/platform/clock.ts';
import { type Database, type Db, openPGlite } from '../../src/platform/db/database.ts';
import { migrate } from '../../src/platform/db/migrations.ts';
import { LocalBlobStore } from '../../src/platform/storage/local-blob-store.ts';

/** What a service under test is built on: the real adapters Reel runs with, nothing mocked. */
export interface ServiceFixture {
  /** In-memory PGlite, migrated. */
  database: Database;
  db: Db;
  /** A LocalBlobStore over `storeDir`. */
  store: LocalBlobStore;
  /** The fixture's own temp directory (the store lives in `storeDir` inside it). */
  dir: string;
  storeDir: string;
  /** Starts at the wall clock's time (the database's `now()` agrees with it), moves only when told to. */
  clock: ManualClock;
  /** Every file under the store's directory, partial uploads and temp files included (sorted, `/`-separated). */
  filesInStore(): Promise<string[]>;
  close(): Promise<void>;
}

export async function openServiceFixture(): Promise<ServiceFixture> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-service-'));
  const storeDir = path.join(dir, 'store');
  const database = await openPGlite(undefined);
  await migrate(database.db);
  return {
    database,
    db: database.db,
    store: new LocalBlobStore(storeDir),
    dir,
    storeDir,
    clock: new ManualClock(Date.now()),
    async filesInStore() {
      const entries = await fs.readdir(storeDir, { recursive: true, withFileTypes: true }).catch(() => []);
      return entries
        .filter((entry) => entry.isFile())
        .map((entry) =>
          path.relative(storeDir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'),
        )
        .sort();
    },
    async close() {
      await database.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** An API key in the database (owner columns reference it), as the principal a request with it would be. */
export async function createKeyPrincipal(
  db: Db,
  name: string,
  role: Role,
): Promise<Extract<Principal, { kind: 'api-key' }>> {
  const { key } = await new ApiKeys(db).create(name, role);
  if (key.role !== role) throw new Error(`key ${name} was made ${key.role}, not ${role}`);
  return { kind: 'api-key', keyId: key.id, role: key.role };
}

/** Rejects with an AppError of this code (and returns it, for further checks). */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}
