/**
 * Where a video's files are served: `/media/<videoId>/<encodeId>/<file>`, mirroring the storage key
 * `videos/<videoId>/<encodeId>/<file>`. Paths are content-addressed by encode id, so they never change
 * meaning and can be cached forever.
 */
export function mediaPath(videoId: string, encodeId: string, file: string): string {
  return `/media/${videoId}/${encodeId}/${file}`;
}

export function storageKeyForMedia(videoId: string, encodeId: string, file: string): string {
  return `videos/${videoId}/${encodeId}/${file}`;
}

/** A file inside an encode: `master.m3u8`, `720p/seg_00001.m4s`, `poster_640.jpg`… nothing else. */
export const MEDIA_FILE_PATTERN = /^(?:[a-z0-9]+\/)?[A-Za-z0-9_-]+\.(?:m3u8|m4s|mp4|jpg|vtt)$/;
