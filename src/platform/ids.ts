import { randomBytes } from 'node:crypto';

/**
 * URL-safe random ids (12 chars, ≈ 71 bits): safe in storage keys and URLs, no user input involved.
 * Never starting with `-` or `_`: an id must not read as a command-line option (`reel status -2…`).
 */
export function newId(): string {
  for (;;) {
    const id = randomBytes(9).toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

export const ID_PATTERN = '^[A-Za-z0-9_-]{12}$';

/** A secret with a readable prefix, e.g. `reel_…` for API keys. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}
