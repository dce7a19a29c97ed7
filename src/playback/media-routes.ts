import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { errorResponses, IdParam } from '../http/schemas.ts';
import type { MediaAccess } from './media-access.ts';
import type { MediaSender } from './media-sender.ts';

export interface MediaRouteOptions {
  access: MediaAccess;
  sender: MediaSender;
}

const FILE_DESCRIPTION =
  'A file of the encode: `master.m3u8`; `<rendition>/index.m3u8`, `<rendition>/init_<rendition>.mp4`, ' +
  '`<rendition>/seg_00000.m4s` (renditions `1080p`…`144p`, `audio`); `poster_<width>.jpg`; ' +
  '`storyboard.jpg` and `storyboard.vtt`; `download.mp4` (progressive MP4).';

const DESCRIPTION = `Serves one file of a video's current encode.

- Content types: \`application/vnd.apple.mpegurl\` (playlists), \`video/mp4\` (init files, fMP4 segments, MP4), \`image/jpeg\`, \`text/vtt\`.
- \`Cache-Control\`: segments, init files, images and the MP4 \`public, max-age=31536000, immutable\` (content-addressed paths); playlists and VTT \`max-age=2\` while the video is still encoding (EVENT playlists), \`max-age=300\` once finished (VOD); through a signed URL, never past its expiry.
- Playlists and VTT: strong ETag (content hash, one per coding), 304 on If-None-Match, gzip or brotli when Accept-Encoding allows (\`Vary: Accept-Encoding\`). Binary files are never compressed; their ETag derives from size and modification time (S3: the object's ETag).
- \`Accept-Ranges: bytes\`: one range → 206 with Content-Range (open-ended, suffix and past-the-end ranges clamped; If-Range honoured); unsatisfiable → 416 RANGE_NOT_SATISFIABLE with \`Content-Range: bytes */<size>\`; several ranges → 200 with the whole file (RFC 9110 lets a server ignore Range; no multipart/byteranges). Content-Length always; HEAD everywhere.
- With \`MEDIA_DELIVERY=redirect\` (S3 or a CDN), binary files answer 302 to \`PUBLIC_MEDIA_BASE_URL\`/key or a presigned URL; playlists and VTT are always served here, so their relative URIs keep resolving against Reel.
- Errors: unknown video (or a private one without a signature) 404 VIDEO_NOT_FOUND, deleted 410 VIDEO_DELETED, missing file or an encode that is not served 404 MEDIA_NOT_FOUND.`;

const binaryContent = (description: string) => ({
  description,
  content: {
    'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
  },
});

const responses = {
  200: binaryContent('The file (playlist, segment, image, VTT or MP4)'),
  206: binaryContent('One byte range of the file'),
  302: { description: 'Redirect mode: the file at the CDN or a presigned storage URL', type: 'null' },
  304: { description: 'Not modified (If-None-Match)', type: 'null' },
  ...errorResponses(400, 404, 410, 416),
};

/**
 * Media delivery: `/media/<videoId>/<encodeId>/<file>` for public and unlisted videos, and
 * `/media/s/<expires>/<signature>/<videoId>/<encodeId>/<file>` (signed, see url-signer.ts) for any video.
 */
export async function mediaRoutes(parent: FastifyInstance, options: MediaRouteOptions): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { access, sender } = options;
  const tags = ['playback'];
  const file = Type.String({ description: FILE_DESCRIPTION });

  // Error answers must not be cached like the file they stand for.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode >= 400) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/media/:videoId/:encodeId/*',
    schema: {
      tags,
      summary: 'A media file of a public or unlisted video: playlist, segment, init file, image, VTT, MP4',
      description: DESCRIPTION,
      params: Type.Object({ videoId: IdParam, encodeId: IdParam, '*': file }),
      response: responses,
    },
    handler: async (request, reply) => {
      const { videoId, encodeId } = request.params;
      const grant = await access.authorize({ videoId, encodeId, file: request.params['*'] });
      return sender.send(request, reply, grant);
    },
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/media/s/:expires/:signature/:videoId/:encodeId/*',
    schema: {
      tags,
      summary: 'A media file through a signed URL (required for private videos)',
      description:
        `${DESCRIPTION}\n\nThe signature (HMAC-SHA256 over \`<expires>\\n/media/<videoId>/<encodeId>/\`) ` +
        'authorizes the whole encode directory, so the relative URIs inside playlists and VTT stay ' +
        'authorized. A tampered signature answers 403 MEDIA_SIGNATURE_INVALID, an expired one 403 ' +
        'MEDIA_SIGNATURE_EXPIRED. `GET /api/v1/videos/:id` (with an API key) hands out these URLs.',
      params: Type.Object({
        expires: Type.String({ description: 'Expiry, Unix seconds' }),
        signature: Type.String({ description: 'Base64url HMAC-SHA256' }),
        videoId: IdParam,
        encodeId: IdParam,
        '*': file,
      }),
      response: { ...responses, ...errorResponses(403) },
    },
    handler: async (request, reply) => {
      const { videoId, encodeId, expires, signature } = request.params;
      const grant = await access.authorize({
        videoId,
        encodeId,
        file: request.params['*'],
        signed: { expires, signature },
      });
      return sender.send(request, reply, grant);
    },
  });
}
