import { randomBytes } from 'node:crypto';

/** URL-safe random ids (12 chars = 72 bits): safe in storage keys and URLs, no user input involved. */
export function newId(): string {
  return randomBytes(9).toString('base64url');
}

export const ID_PATTERN = '^[A-Za-z0-9_-]{12}$';

/** A secret with a readable prefix, e.g. `reel_…` for API keys. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}
