/**
 * Where a video's bytes live in the blob store — the one place keys are spelled out. Every part is a
 * validated id or a file name Reel chose, never raw user input.
 *
 *   sources/<uploadId>/original.<ext>          the uploaded file
 *   videos/<videoId>/<encodeId>/<file>         one encode: playlists, segments, images, MP4
 *
 * Encodes are content-addressed by encode id: a re-encode writes a new prefix, so nothing cached under an
 * old one ever changes meaning.
 */
export function sourceKey(uploadId: string, extension: string): string {
  return `sources/${uploadId}/original.${extension}`;
}

/** Every encode of a video. */
export function videoPrefix(videoId: string): string {
  return `videos/${videoId}/`;
}

export function encodePrefix(videoId: string, encodeId: string): string {
  return `${videoPrefix(videoId)}${encodeId}/`;
}

/** `file` is relative to the encode: `master.m3u8`, `720p/seg_00001.m4s`, `poster_640.jpg`… */
export function encodeFileKey(videoId: string, encodeId: string, file: string): string {
  return `${encodePrefix(videoId, encodeId)}${file}`;
}
