import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { VideoRepository } from '../catalog/video-repository.ts';
import { errors } from '../errors.ts';
import { isId } from '../platform/ids.ts';
import { BlobNotFoundError, type BlobStore } from '../platform/storage/blob-store.ts';
import { MEDIA_FILE_PATTERN, storageKeyForMedia } from './media-urls.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.m4s': 'video/mp4',
  '.mp4': 'video/mp4',
  '.jpg': 'image/jpeg',
  '.vtt': 'text/vtt; charset=utf-8',
};

/** Serves an encode's files: `/media/<videoId>/<encodeId>/<file>` → storage `videos/<videoId>/<encodeId>/<file>`. */
export async function mediaRoutes(
  app: FastifyInstance,
  options: { videos: VideoRepository; store: BlobStore },
): Promise<void> {
  app.get<{ Params: { videoId: string; encodeId: string; '*': string } }>(
    '/media/:videoId/:encodeId/*',
    { schema: { tags: ['playback'], summary: 'HLS playlists and segments, MP4, posters, storyboard' } },
    async (request, reply) => {
      const { videoId, encodeId } = request.params;
      const file = request.params['*'];
      // Ids and file names are validated before any storage key is built: no traversal.
      if (!isId(videoId) || !isId(encodeId) || !MEDIA_FILE_PATTERN.test(file)) {
        throw errors.notFound('No such media file');
      }
      const video = await options.videos.find(videoId);
      if (!video) throw errors.videoNotFound(`No video ${videoId}`);
      if (video.status === 'deleted') throw errors.videoDeleted(`Video ${videoId} was deleted`);
      const key = storageKeyForMedia(videoId, encodeId, file);
      const stat = await options.store.stat(key);
      if (!stat) throw errors.notFound('No such media file');
      const stream = await options.store.read(key).catch((error) => {
        throw error instanceof BlobNotFoundError ? errors.notFound('No such media file') : error;
      });
      return reply
        .header('content-type', CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream')
        .header('content-length', stat.size)
        .send(stream);
    },
  );
}
