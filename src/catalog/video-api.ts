import { type Static, type TSchema, Type } from 'typebox';
import type { MediaLinks } from '../playback/media-links.ts';
import type { VideoSummary } from './video-repository.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Url = Nullable(Type.String({ description: 'Absolute when the request named an allowed host' }));

/** The public shape of a video (GET /api/v1/videos/:id, events, reprocess): in OpenAPI as `Video`. */
export const VideoSchema = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    description: Type.String(),
    tags: Type.Array(Type.String()),
    visibility: Type.Union([Type.Literal('public'), Type.Literal('unlisted'), Type.Literal('private')]),
    status: Type.Union([
      Type.Literal('processing'),
      Type.Literal('ready'),
      Type.Literal('failed'),
      Type.Literal('deleted'),
    ]),
    playable: Type.Boolean({ description: 'The HLS playlist can be played (possibly while still encoding)' }),
    progress: Type.Object({ percent: Type.Number(), etaSeconds: Nullable(Type.Number()) }),
    error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
    durationSeconds: Type.Number(),
    width: Type.Integer(),
    height: Type.Integer(),
    fps: Nullable(Type.Number()),
    rotation: Type.Integer(),
    videoCodec: Nullable(Type.String()),
    audioCodec: Nullable(Type.String()),
    bitrate: Nullable(Type.Number()),
    container: Nullable(Type.String()),
    sourceSize: Type.Number(),
    renditions: Type.Array(
      Type.Object({
        name: Type.String(),
        width: Type.Integer(),
        height: Type.Integer(),
        frameRate: Type.Number(),
        bandwidth: Type.Number(),
        averageBandwidth: Type.Number(),
        codecs: Type.String(),
      }),
    ),
    playback: Type.Object({
      hls: Url,
      mp4: Url,
      poster: Url,
      posters: Type.Array(Type.Object({ width: Type.Integer(), height: Type.Integer(), url: Url })),
      storyboard: Url,
    }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    readyAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Video' },
);
export type VideoApi = Static<typeof VideoSchema>;

/**
 * The public shape of a video; `baseUrl` makes playback URLs absolute (browser-fetchable). `links`
 * decides which playback paths the video has (signed for private videos; none when nothing is served).
 */
export function videoToApi(row: VideoSummary, baseUrl: string, links: MediaLinks): VideoApi {
  const outputs = row.outputs;
  const pathOf =
    row.status === 'deleted'
      ? undefined
      : links.forVideo({ id: row.id, encodeId: row.encode_id, visibility: row.visibility });
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
    error: row.error ?? null,
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
    renditions: row.renditions ?? [],
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
