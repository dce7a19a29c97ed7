import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { errors } from '../errors.ts';
import { type Clock, systemClock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import { newId, newSecret } from '../platform/ids.ts';
import { ROLES, type Role } from './principal.ts';

export interface ApiKeyInfo {
  id: string;
  name: string;
  role: Role;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Keys are 192-bit random secrets, so a plain SHA-256 is a sufficient one-way hash. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export class ApiKeys {
  readonly #db: Db;

  readonly #clock: Clock;

  constructor(db: Db, clock: Clock = systemClock) {
    this.#db = db;
    this.#clock = clock;
  }

  /**
   * Creates a key; the secret is returned once and only its hash is stored. The instance's first key
   * is always an admin (someone must be able to manage everything); later keys are members unless
   * `role` says otherwise.
   */
  async create(name: string, role?: Role): Promise<{ key: ApiKeyInfo; secret: string }> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 100)
      throw errors.validation('A key name of 1–100 characters is required');
    if (role !== undefined && !ROLES.includes(role)) {
      throw errors.validation(`A key's role is one of ${ROLES.join(', ')}`, { role });
    }
    const secret = newSecret('reel');
    const row = await this.#db.transaction().execute(async (tx) => {
      // Serialize key creation so two concurrent "first" keys cannot both skip the admin rule.
      await sql`select pg_advisory_xact_lock(7469002)`.execute(tx);
      const any = await tx.selectFrom('api_keys').select('id').limit(1).executeTakeFirst();
      return tx
        .insertInto('api_keys')
        .values({
          id: newId(),
          name: trimmed,
          role: any ? (role ?? 'member') : 'admin',
          hash: hashSecret(secret),
          last_used_at: null,
          revoked_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    return { key: toInfo(row), secret };
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.#db.selectFrom('api_keys').selectAll().orderBy('created_at').execute();
    return rows.map(toInfo);
  }

  /** Revokes by id or by name (when the name is unique). */
  async revoke(idOrName: string): Promise<ApiKeyInfo> {
    const matches = await this.#db
      .selectFrom('api_keys')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .where('revoked_at', 'is', null)
      .execute();
    if (matches.length === 0) throw errors.keyNotFound(`No active API key with id or name "${idOrName}"`);
    if (matches.length > 1) throw errors.validation(`Several keys are named "${idOrName}": revoke by id`);
    const row = await this.#db
      .updateTable('api_keys')
      .set({ revoked_at: this.#clock.now() })
      .where('id', '=', matches[0]!.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toInfo(row);
  }

  /** The active key a secret belongs to, or undefined. */
  async verify(secret: string): Promise<{ id: string; role: Role } | undefined> {
    const row = await this.#db
      .selectFrom('api_keys')
      .select(['id', 'role', 'last_used_at'])
      .where('hash', '=', hashSecret(secret))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    // Record use at most once a minute: no write on every request.
    if (!row.last_used_at || this.#clock.nowMs() - row.last_used_at.getTime() > 60_000) {
      await this.#db
        .updateTable('api_keys')
        .set({ last_used_at: this.#clock.now() })
        .where('id', '=', row.id)
        .execute();
    }
    return { id: row.id, role: row.role };
  }
}

function toInfo(row: {
  id: string;
  name: string;
  role: Role;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
