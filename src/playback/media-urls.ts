/**
 * Where a video's files are served: `/media/<videoId>/<encodeId>/<file>`, mirroring the storage key
 * `videos/<videoId>/<encodeId>/<file>`. Paths are content-addressed by encode id, so they never change
 * meaning and can be cached forever.
 */
export function mediaPath(videoId: string, encodeId: string, file: string): string {
  return `/media/${videoId}/${encodeId}/${file}`;
}

/** Only ever called with validated ids and a file name that passed {@link mediaFileKind}. */
export function storageKeyForMedia(videoId: string, encodeId: string, file: string): string {
  return `videos/${videoId}/${encodeId}/${file}`;
}

/** A file inside an encode: `master.m3u8`, `720p/seg_00001.m4s`, `poster_640.jpg`… nothing else. */
export const MEDIA_FILE_PATTERN =
  /^(?:[A-Za-z0-9_-]+\/)?[A-Za-z0-9_-]+\.(m3u8|m4s|mp4|jpg|jpeg|png|webp|vtt)$/;

export interface MediaFileKind {
  contentType: string;
  /**
   * Playlists and WebVTT: small text, read into memory, compressed when the client accepts it, with a
   * content-hash ETag. Everything else is binary, streamed (never whole in memory), never compressed.
   */
  text: boolean;
  playlist: boolean;
}

const KINDS: Record<string, MediaFileKind> = {
  m3u8: { contentType: 'application/vnd.apple.mpegurl', text: true, playlist: true },
  vtt: { contentType: 'text/vtt; charset=utf-8', text: true, playlist: false },
  // fMP4 init and media segments, and the progressive MP4 rendition.
  m4s: { contentType: 'video/mp4', text: false, playlist: false },
  mp4: { contentType: 'video/mp4', text: false, playlist: false },
  jpg: { contentType: 'image/jpeg', text: false, playlist: false },
  jpeg: { contentType: 'image/jpeg', text: false, playlist: false },
  png: { contentType: 'image/png', text: false, playlist: false },
  webp: { contentType: 'image/webp', text: false, playlist: false },
};

/** What a file name is, or undefined when it cannot be a file of an encode (no such file: 404). */
export function mediaFileKind(file: string): MediaFileKind | undefined {
  const match = MEDIA_FILE_PATTERN.exec(file);
  return match ? KINDS[match[1]!] : undefined;
}
