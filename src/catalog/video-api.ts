import type { MediaLinks } from '../playback/media-links.ts';
import { mediaPath } from '../playback/media-urls.ts';
import type { EncodeOutputs, Rendition, VideoError, VideoSummary } from './video-repository.ts';

/**
 * The public shape of a video; `baseUrl` makes playback URLs absolute (browser-fetchable). `links`
 * signs the playback URLs of private videos; without it a private video has no playback URLs.
 */
export function videoToApi(row: VideoSummary, baseUrl: string, links?: MediaLinks) {
  const outputs = row.outputs as EncodeOutputs | null;
  const encodeId = row.encode_id;
  const pathOf =
    row.status === 'deleted' || !encodeId
      ? undefined
      : links
        ? links.forVideo(row)
        : row.visibility === 'private'
          ? undefined
          : (file: string) => mediaPath(row.id, encodeId, file);
  const url = (file: string | null | undefined) => (file && pathOf ? baseUrl + pathOf(file) : null);
  const posters = outputs?.posters ?? [];
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    tags: row.tags,
    visibility: row.visibility,
    status: row.status,
    playable: row.playable,
    progress: { percent: Math.round(row.progress_percent * 10) / 10, etaSeconds: row.eta_seconds },
    error: (row.error as VideoError | null) ?? null,
    durationSeconds: row.duration_seconds,
    width: row.width,
    height: row.height,
    fps: row.fps,
    rotation: row.rotation,
    videoCodec: row.video_codec,
    audioCodec: row.audio_codec,
    bitrate: row.bitrate,
    container: row.container,
    sourceSize: row.source_size,
    renditions: (row.renditions as Rendition[]) ?? [],
    playback: {
      hls: url(outputs?.master),
      mp4: url(outputs?.mp4),
      // The largest poster; every size is listed in `posters`.
      poster: url(posters.at(0)?.file),
      posters: posters.map((poster) => ({
        width: poster.width,
        height: poster.height,
        url: url(poster.file),
      })),
      storyboard: url(outputs?.storyboard?.vtt),
    },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    readyAt: row.ready_at ? new Date(row.ready_at).toISOString() : null,
  };
}
export type VideoApi = ReturnType<typeof videoToApi>;
