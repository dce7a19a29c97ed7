import { createHmac, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../platform/db/database.ts';

const DAY_MS = 86_400_000;

/**
 * Viewer ids are never stored: only HMAC-SHA256(salt of the UTC day, viewerId). Every API node shares the
 * day's salt through the database (the first to need it creates it); salts older than two days are
 * deleted (views/module.ts), after which no stored hash can be linked to a viewer id any more.
 */
export class ViewerHasher {
  readonly #db: Db;
  readonly #salts = new Map<number, Promise<string>>();

  constructor(db: Db) {
    this.#db = db;
  }

  async hash(viewerId: string, atMs: number): Promise<string> {
    const salt = await this.#saltOf(Math.floor(atMs / DAY_MS) * DAY_MS);
    return createHmac('sha256', salt).update(viewerId).digest('base64url').slice(0, 22);
  }

  #saltOf(day: number): Promise<string> {
    let salt = this.#salts.get(day);
    if (!salt) {
      salt = this.#load(day);
      salt.catch(() => this.#salts.delete(day)); // a database hiccup is not remembered
      this.#salts.set(day, salt);
      for (const known of this.#salts.keys()) if (known < day - DAY_MS) this.#salts.delete(known);
    }
    return salt;
  }

  async #load(day: number): Promise<string> {
    const date = new Date(day).toISOString().slice(0, 10);
    await sql`insert into view_salts (day, salt) values (${date}::date, ${randomBytes(32).toString('base64url')})
      on conflict do nothing`.execute(this.#db);
    const row = await sql<{ salt: string }>`select salt from view_salts where day = ${date}::date`.execute(
      this.#db,
    );
    return row.rows[0]!.salt;
  }
}

/** Deletes the salts older than yesterday: yesterday's hashes stay comparable to today's late beacons. */
export async function forgetOldSalts(db: Db, nowMs: number): Promise<void> {
  const keepFrom = new Date(Math.floor(nowMs / DAY_MS) * DAY_MS - DAY_MS).toISOString().slice(0, 10);
  await sql`delete from view_salts where day < ${keepFrom}::date`.execute(db);
}
