import { errors } from '../errors.ts';
import { type Clock, systemClock } from '../platform/clock.ts';
import type { Db, DbOrTx } from '../platform/db/database.ts';
import { newId, newSecret } from '../platform/ids.ts';
import { hashSecret } from './api-keys.ts';
import type { Role } from './principal.ts';

export interface UploadTokenGrant {
  tokenId: string;
  apiKeyId: string;
  /** The issuing key's role: a token never has more scope than its key. */
  role: Role;
  /** The session this token created, or null while unused. */
  uploadId: string | null;
}

/**
 * Short-lived tokens a site hands to an end user for a direct upload: each may create exactly one
 * upload session and then fill, inspect, complete or abort only that session.
 */
export class UploadTokens {
  readonly #db: Db;
  readonly #ttlSeconds: number;

  readonly #clock: Clock;

  constructor(db: Db, ttlSeconds: number, clock: Clock = systemClock) {
    this.#db = db;
    this.#ttlSeconds = ttlSeconds;
    this.#clock = clock;
  }

  async issue(apiKeyId: string): Promise<{ token: string; expiresAt: string }> {
    const token = newSecret('rut');
    const expiresAt = new Date(this.#clock.nowMs() + this.#ttlSeconds * 1000);
    await this.#db
      .insertInto('upload_tokens')
      .values({
        id: newId(),
        hash: hashSecret(token),
        api_key_id: apiKeyId,
        expires_at: expiresAt,
        upload_id: null,
      })
      .execute();
    return { token, expiresAt: expiresAt.toISOString() };
  }

  async verify(token: string): Promise<UploadTokenGrant | undefined> {
    const row = await this.#db
      .selectFrom('upload_tokens')
      .innerJoin('api_keys', 'api_keys.id', 'upload_tokens.api_key_id')
      .select(['upload_tokens.id', 'upload_tokens.api_key_id', 'upload_tokens.upload_id', 'api_keys.role'])
      .where('upload_tokens.hash', '=', hashSecret(token))
      .where('upload_tokens.expires_at', '>', this.#clock.now())
      .where('api_keys.revoked_at', 'is', null)
      .executeTakeFirst();
    return row
      ? { tokenId: row.id, apiKeyId: row.api_key_id, role: row.role, uploadId: row.upload_id }
      : undefined;
  }

  /** Binds the token to the session it creates; fails if it already created one (atomic). */
  async bind(tx: DbOrTx, tokenId: string, uploadId: string): Promise<void> {
    const result = await tx
      .updateTable('upload_tokens')
      .set({ upload_id: uploadId })
      .where('id', '=', tokenId)
      .where('upload_id', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows !== 1n) {
      throw errors.uploadTokenUsed('This upload token has already created an upload session');
    }
  }
}
