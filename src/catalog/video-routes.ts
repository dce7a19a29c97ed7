import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { canReadVideo } from '../auth/policy.ts';
import type { Authenticator } from '../http/auth.ts';
import { publicBaseUrl } from '../http/public-origin.ts';
import { errorResponses, IdParam } from '../http/schemas.ts';
import type { MediaLinks } from '../playback/media-links.ts';
import { videoToApi } from './video-api.ts';
import { type VideoEventRouteOptions, videoEventRoutes } from './video-events.ts';
import type { VideoSummary } from './video-repository.ts';
import type { VideoService } from './video-service.ts';

export interface VideoRouteOptions {
  service: VideoService;
  auth: Authenticator;
  publicBaseUrl: string | undefined;
  /** Hosts a request may name for absolute URLs (ALLOWED_HOSTS); others get relative URLs. */
  allowedHosts?: readonly string[];
  /** Signs the playback URLs of private videos. */
  links: MediaLinks;
  /** The event stream: the process-wide change feed and the per-IP cap (SSE_MAX_CONNECTIONS_PER_IP). */
  events: Pick<VideoEventRouteOptions, 'feed' | 'maxConnectionsPerIp'>;
}

export async function videoRoutes(parent: FastifyInstance, options: VideoRouteOptions): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { service, auth } = options;
  const tags = ['videos'];
  const params = Type.Object({ id: IdParam });
  const baseUrl = (request: FastifyRequest) =>
    publicBaseUrl(
      { configured: options.publicBaseUrl, protocol: request.protocol, host: request.host },
      options.allowedHosts ?? [],
    );
  const toApi = (row: VideoSummary, request: FastifyRequest) =>
    videoToApi(row, baseUrl(request), options.links);
  // Reading a video needs no credentials, but credentials that are sent must be valid (401 otherwise),
  // whichever video is asked for. Who may read which video is auth/policy.ts's decision.
  const credentialsIfSent = auth.credentialsIfSent;
  const readable = (request: FastifyRequest & { params: { id: string } }) =>
    service.get(request.params.id, request.principal);
  const privateNote =
    "A private video needs its owner's API key or an admin key (`Authorization: Bearer <key>`); to " +
    'anyone else it answers 404 VIDEO_NOT_FOUND, like an unknown id. Its `playback.*` URLs are signed ' +
    'and expire (SIGNED_URL_TTL_SECONDS).';

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

  // The event stream (its own file): one database poll per process feeds every listener.
  await app.register(videoEventRoutes, {
    ...options.events,
    preHandler: credentialsIfSent,
    authorize: readable,
    canRead: (row, request) => canReadVideo(row, request.principal),
    toApi,
  });

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
      reply.status(202).send(toApi(await service.reprocess(request.params.id, request.principal), request)),
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
      await service.delete(request.params.id, request.principal);
      return reply.status(204).send(null);
    },
  );
}
