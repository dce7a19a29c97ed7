import { randomBytes } from 'node:crypto';
import type { Db } from '../platform/db/database.ts';

const SETTING = 'media_signing_secret';

/**
 * The HMAC key of signed media URLs: SIGNING_SECRET when configured, else one generated on first start
 * and kept in the database. Insert-if-absent, then read back: every node of a scale-out deployment
 * (starting at the same time or not) ends up with the same secret.
 */
export async function loadSigningSecret(db: Db, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  await db
    .insertInto('settings')
    .values({ key: SETTING, value: randomBytes(32).toString('base64url') })
    .onConflict((conflict) => conflict.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', SETTING)
    .executeTakeFirstOrThrow();
  return row.value;
}
