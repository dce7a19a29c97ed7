/** What an API key may do: an admin everything; a member only its own uploads and videos. */
export type Role = 'admin' | 'member';
export const ROLES: readonly Role[] = ['admin', 'member'];

/** Who is making a request. An upload token carries the role of the key that issued it. */
export type Principal =
  | { kind: 'api-key'; keyId: string; role: Role }
  | { kind: 'upload-token'; tokenId: string; apiKeyId: string; role: Role; uploadId: string | null };

export function ownerKeyId(principal: Principal): string {
  return principal.kind === 'api-key' ? principal.keyId : principal.apiKeyId;
}
