import { type Static, type TSchema, Type } from 'typebox';
import type { MediaLinks } from '../playback/media-links.ts';
import { chaptersFromDescription } from '../tracks/chapters.ts';
import type { ListedVideo } from './video-list-query.ts';
import type { VideoSummary } from './video-repository.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Url = Nullable(Type.String({ description: 'Absolute when the request named an allowed host' }));

/** The public shape of a video (GET /api/v1/videos/:id, events, reprocess): in OpenAPI as `Video`. */
export const VideoSchema = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    description: Type.String(),
    chapters: Type.Array(Type.Object({ start: Type.Number(), title: Type.String() }), {
      description:
        'From the description, YouTube-style: lines like `0:00 Intro`, the first at 0:00, ascending, at least three',
    }),
    tags: Type.Array(Type.String()),
    category: Nullable(Type.String({ description: 'One of GET /api/v1/categories' })),
    language: Nullable(Type.String({ description: 'BCP 47' })),
    views: Type.Integer(),
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
      beaconToken: Type.Union([Type.String(), Type.Null()], {
        description:
          'Send it as `token` with playback beacons (unlisted and private videos); null for public ones',
      }),
    }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    readyAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Video' },
);
export type VideoApi = Static<typeof VideoSchema>;

type PlaybackFacts = Pick<VideoSummary, 'id' | 'status' | 'encode_id' | 'visibility' | 'outputs'>;

/** The playback URLs of a video; `links` decides which paths it has (signed for private videos). */
export function playbackOf(row: PlaybackFacts, baseUrl: string, links: MediaLinks): VideoApi['playback'] {
  const outputs = row.outputs;
  const pathOf =
    row.status === 'deleted'
      ? undefined
      : links.forVideo({ id: row.id, encodeId: row.encode_id, visibility: row.visibility });
  const url = (file: string | null | undefined) => (file && pathOf ? baseUrl + pathOf(file) : null);
  const posters = outputs?.posters ?? [];
  return {
    hls: url(outputs?.master),
    mp4: url(outputs?.mp4),
    // The largest poster; every size is listed in `posters`.
    poster: url(posters.at(0)?.file),
    posters: posters.map((poster) => ({ width: poster.width, height: poster.height, url: url(poster.file) })),
    storyboard: url(outputs?.storyboard?.vtt),
    beaconToken: row.status === 'deleted' ? null : links.beaconToken(row),
  };
}

/** The public shape of a video; `baseUrl` makes playback URLs absolute (browser-fetchable). */
export function videoToApi(row: VideoSummary, baseUrl: string, links: MediaLinks): VideoApi {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    chapters: chaptersFromDescription(row.description, row.duration_seconds) ?? [],
    tags: row.tags,
    category: row.category,
    language: row.language,
    views: row.views,
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
    playback: playbackOf(row, baseUrl, links),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    readyAt: row.ready_at ? new Date(row.ready_at).toISOString() : null,
  };
}

/** One video of a list or search page: what a grid needs, without a second request. */
export const VideoListItemSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  durationSeconds: Type.Number(),
  width: Type.Integer(),
  height: Type.Integer(),
  poster: Url,
  posters: Type.Array(Type.Object({ width: Type.Integer(), height: Type.Integer(), url: Url })),
  storyboard: Url,
  createdAt: Type.String({ format: 'date-time' }),
  readyAt: Nullable(Type.String({ format: 'date-time' })),
  views: Type.Integer(),
  tags: Type.Array(Type.String()),
  category: Nullable(Type.String()),
  visibility: Type.Optional(Type.String({ description: 'Only to API keys' })),
  status: Type.Optional(Type.String({ description: 'Only to API keys' })),
});
export type VideoListItem = Static<typeof VideoListItemSchema>;

export const VideoPageSchema = Type.Object({
  items: Type.Array(VideoListItemSchema),
  nextCursor: Nullable(
    Type.String({ description: 'Pass back as `cursor` for the next page; null on the last' }),
  ),
});

/** `keyHolder`: the request came with an API key (visibility and status are shown). */
export function listItemToApi(
  row: ListedVideo,
  baseUrl: string,
  links: MediaLinks,
  keyHolder: boolean,
): VideoListItem {
  const { poster, posters, storyboard } = playbackOf(row, baseUrl, links);
  return {
    id: row.id,
    title: row.title,
    durationSeconds: row.duration_seconds,
    width: row.width,
    height: row.height,
    poster,
    posters,
    storyboard,
    createdAt: row.created_at.toISOString(),
    readyAt: row.ready_at ? new Date(row.ready_at).toISOString() : null,
    views: row.views,
    tags: row.tags,
    category: row.category,
    ...(keyHolder ? { visibility: row.visibility, status: row.status } : {}),
  };
}
