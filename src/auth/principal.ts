/** Who is making a request. */
export type Principal =
  | { kind: 'api-key'; keyId: string }
  | { kind: 'upload-token'; tokenId: string; apiKeyId: string; uploadId: string | null };

export function ownerKeyId(principal: Principal): string {
  return principal.kind === 'api-key' ? principal.keyId : principal.apiKeyId;
}
