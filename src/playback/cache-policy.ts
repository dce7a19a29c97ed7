/*
 * Cache-Control for media responses. Pure.
 *
 * - Segments, init files, images and the MP4: a year, immutable. Their paths are content-addressed by
 *   encode id: a re-encode writes new paths, so a cached copy can never be stale.
 * - Playlists and VTT while the encode is still being written (EVENT playlists, early master): 2 s, so
 *   players and CDNs see new segments at once.
 * - Playlists and VTT of a finished encode (VOD, with EXT-X-ENDLIST): 5 minutes. Their content can no
 *   longer change either (same content-addressed paths), but the playlist is the entry point: a short
 *   lifetime bounds how long caches keep starting playbacks of a deleted video or of one made private,
 *   without a CDN purge. Revalidation is cheap (strong ETag → 304).
 * - Signed URLs: never cached past the signature's expiry.
 */

export const IMMUTABLE_MAX_AGE_SECONDS = 31_536_000;
export const LIVE_PLAYLIST_MAX_AGE_SECONDS = 2;
export const VOD_PLAYLIST_MAX_AGE_SECONDS = 300;

export interface CachePolicyInput {
  /** A playlist or VTT (else a binary, content-addressed file). */
  text: boolean;
  /** The encode is complete: playlists are VOD and the master has its final bandwidths. */
  final: boolean;
  /** Expiry of the signed URL (Unix seconds), when the request came through one. */
  expiresAt?: number | undefined;
  nowSeconds: number;
}

export function cacheControl(input: CachePolicyInput): string {
  let maxAge = !input.text
    ? IMMUTABLE_MAX_AGE_SECONDS
    : input.final
      ? VOD_PLAYLIST_MAX_AGE_SECONDS
      : LIVE_PLAYLIST_MAX_AGE_SECONDS;
  if (input.expiresAt !== undefined)
    maxAge = Math.max(0, Math.min(maxAge, input.expiresAt - input.nowSeconds));
  return input.text ? `public, max-age=${maxAge}` : `public, max-age=${maxAge}, immutable`;
}
