import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Authenticator } from '../http/auth.ts';
import { errorResponses, IdParam } from '../http/schemas.ts';
import type { MediaLinks } from '../playback/media-links.ts';
import { type VideoApi, videoToApi } from './video-api.ts';
import type { VideoSummary } from './video-repository.ts';
import type { VideoService } from './video-service.ts';

export interface VideoRouteOptions {
  service: VideoService;
  auth: Authenticator;
  publicBaseUrl: string | undefined;
  /** Signs the playback URLs of private videos. */
  links: MediaLinks;
  /** How often the event stream looks for changes (≤ 1 update/s). */
  eventPollMs?: number;
}

export async function videoRoutes(parent: FastifyInstance, options: VideoRouteOptions): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { service, auth } = options;
  const tags = ['videos'];
  const params = Type.Object({ id: IdParam });
  const baseUrl = (request: FastifyRequest) =>
    options.publicBaseUrl ?? `${request.protocol}://${request.host}`;
  const toApi = (row: VideoSummary, request: FastifyRequest) =>
    videoToApi(row, baseUrl(request), options.links);
  // Reading a video needs no credentials, but credentials that are sent must be valid (401 otherwise),
  // whichever video is asked for: a private video is visible to API keys only, and to anyone else it
  // does not exist (404, exactly as an unknown id).
  const credentialsIfSent = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.headers.authorization !== undefined) await auth.requireKeyOrUploadToken(request, reply);
  };
  const readable = (request: FastifyRequest & { params: { id: string } }) =>
    service.get(request.params.id, { privateAllowed: request.principal?.kind === 'api-key' });
  const privateNote =
    'A private video needs an API key (`Authorization: Bearer <key>`); without one it answers 404 ' +
    'VIDEO_NOT_FOUND, like an unknown id. Its `playback.*` URLs are signed and expire ' +
    '(SIGNED_URL_TTL_SECONDS).';

  app.get(
    '/api/v1/videos/:id',
    {
      schema: {
        tags,
        summary: 'A video: status, progress, metadata, renditions and playback URLs',
        description: privateNote,
        params,
        response: errorResponses(401, 404, 410),
      },
      preHandler: credentialsIfSent,
    },
    async (request) => toApi(await readable(request), request),
  );

  app.get(
    '/api/v1/videos/:id/events',
    {
      schema: {
        tags,
        summary: 'Server-Sent Events: status, progress and ETA (≤ 1/s), playable, then ready or failed',
        description:
          'Events: `progress` (the video, whenever status, progress or playable change), `playable` (once), ' +
          'and a final `ready` or `failed`, after which the stream ends. ' +
          privateNote,
        params,
        response: errorResponses(401, 404, 410),
      },
      preHandler: credentialsIfSent,
    },
    async (request, reply) => {
      const first = await readable(request);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'access-control-allow-origin': '*',
      });
      const send = (event: string, data: unknown) =>
        raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      let last = '';
      let announcedPlayable = false;
      let closed = false;
      request.raw.on('close', () => {
        closed = true;
      });
      const emit = (video: VideoApi): boolean => {
        const key = JSON.stringify([video.status, video.progress, video.playable]);
        if (key !== last) send('progress', video);
        last = key;
        if (video.playable && !announcedPlayable) {
          announcedPlayable = true;
          send('playable', video);
        }
        if (video.status === 'ready' || video.status === 'failed' || video.status === 'deleted') {
          send(video.status, video);
          return true;
        }
        return false;
      };
      let done = emit(toApi(first, request));
      let beats = 0;
      while (!done && !closed) {
        await new Promise((resolve) => setTimeout(resolve, options.eventPollMs ?? 1000));
        if (closed) break;
        // Polling the database (not process memory) works whichever node runs the worker.
        const row = await service.get(request.params.id).catch(() => undefined);
        if (!row) break;
        done = emit(toApi(row, request));
        if (++beats % 15 === 0) raw.write(': keep-alive\n\n');
      }
      raw.end();
    },
  );

  app.post(
    '/api/v1/videos/:id/reprocess',
    {
      preHandler: auth.requireKey,
      schema: {
        tags,
        security: [{ bearer: [] }],
        summary: 'Transcode again; the current output is served until the new one is ready, then deleted',
        params,
        response: errorResponses(401, 403, 404, 409, 410),
      },
    },
    async (request, reply) =>
      reply.status(202).send(toApi(await service.reprocess(request.params.id), request)),
  );

  app.delete(
    '/api/v1/videos/:id',
    {
      preHandler: auth.requireKey,
      schema: {
        tags,
        security: [{ bearer: [] }],
        summary: 'Delete the video: its source, every output and every thumbnail',
        params,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 410) },
      },
    },
    async (request, reply) => {
      await service.delete(request.params.id);
      return reply.status(204).send(null);
    },
  );
}
