import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Authenticator } from '../auth/authenticator.ts';
import { canView } from '../auth/policy.ts';
import { errorResponses, IdParam, TextBlock, TextLine } from '../http/schemas.ts';
import type { MediaLinks } from '../playback/media-links.ts';
import type { CatalogReader } from './catalog-reader.ts';
import { catalogRoutes } from './catalog-routes.ts';
import { searchRoutes } from './search-routes.ts';
import { type VideoApi, VideoSchema, videoToApi } from './video-api.ts';
import type { VideoChangeFeed } from './video-change-feed.ts';
import { videoEventRoutes } from './video-events.ts';
import { type VideoSummary, videoFacts } from './video-repository.ts';
import type { VideoService } from './video-service.ts';

export interface VideoRouteOptions {
  service: VideoService;
  /** Lists, search, suggestions and tags. */
  reader: CatalogReader;
  auth: Authenticator;
  /** The playback URLs of a video (signed for private videos). */
  links: MediaLinks;
  /** The process-wide change feed and the per-IP cap of event streams (SSE_MAX_CONNECTIONS_PER_IP). */
  events: { feed: VideoChangeFeed; maxConnectionsPerIp: number };
  /** Where absolute URLs point for this request (PUBLIC_BASE_URL, or an allowed Host). */
  baseUrlOf(request: FastifyRequest): string;
}

const PRIVATE_NOTE =
  "A private video needs its owner's API key or an admin key (`Authorization: Bearer <key>`); to " +
  'anyone else it answers 404 VIDEO_NOT_FOUND, like an unknown id. Its `playback.*` URLs are signed ' +
  'and expire (SIGNED_URL_TTL_SECONDS).';

type Presenter = (row: VideoSummary, request: FastifyRequest) => VideoApi;
type IdRequest = FastifyRequest<{ Params: { id: string } }>;
const tags = ['videos'];
const params = Type.Object({ id: IdParam });
const video = Type.Ref('Video');

/** One video by id: read, follow (events), reprocess, delete. */
export async function videoRoutes(parent: FastifyInstance, options: VideoRouteOptions): Promise<void> {
  parent.addSchema(VideoSchema);
  const toApi: Presenter = (row, request) => videoToApi(row, options.baseUrlOf(request), options.links);
  await catalogRoutes(parent, options);
  await searchRoutes(parent, options);
  await readRoutes(parent, options, toApi);
  manageRoutes(parent, options, toApi);
  editRoute(parent, options, toApi);
}

async function readRoutes(parent: FastifyInstance, options: VideoRouteOptions, toApi: Presenter) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { service, auth } = options;
  // Reading a video needs no credentials, but credentials that are sent must be valid (401 otherwise),
  // whichever video is asked for. Who may see which video is auth/policy.ts's decision.
  const readable = (request: IdRequest) => service.get(request.params.id, request.principal);
  app.get(
    '/api/v1/videos/:id',
    {
      schema: {
        tags,
        summary: 'A video: status, progress, metadata, renditions and playback URLs',
        description: PRIVATE_NOTE,
        params,
        response: { 200: video, ...errorResponses(401, 404, 410) },
      },
      preHandler: auth.credentialsIfSent,
    },
    async (request) => toApi(await readable(request), request),
  );
  // The event stream (its own file): one database poll per process feeds every listener.
  await app.register(videoEventRoutes, {
    ...options.events,
    preHandler: auth.credentialsIfSent,
    authorize: readable,
    canRead: (row, request) => canView(videoFacts(row), request.principal),
    toApi,
  });
}

function manageRoutes(parent: FastifyInstance, options: VideoRouteOptions, toApi: Presenter) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { service, auth } = options;
  const security = [{ bearer: [] }];
  app.post(
    '/api/v1/videos/:id/reprocess',
    {
      preHandler: auth.requireKey,
      schema: {
        tags,
        security,
        summary: 'Transcode again; the current output is served until the new one is ready, then deleted',
        params,
        response: { 202: video, ...errorResponses(401, 403, 404, 409, 410) },
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
        security,
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

const Visibility = Type.Union([Type.Literal('public'), Type.Literal('unlisted'), Type.Literal('private')]);

/** What PATCH and upload completion may set; tags, category and language are checked further by the service. */
export const EditFields = {
  title: Type.Optional(TextLine({ minLength: 1, maxLength: 200 })),
  description: Type.Optional(TextBlock({ maxLength: 5000 })),
  tags: Type.Optional(Type.Array(TextLine({ maxLength: 200 }), { maxItems: 100 })),
  category: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
  language: Type.Optional(Type.Union([Type.String({ maxLength: 35 }), Type.Null()])),
  visibility: Type.Optional(Visibility),
};

function editRoute(parent: FastifyInstance, options: VideoRouteOptions, toApi: Presenter) {
  parent.withTypeProvider<TypeBoxTypeProvider>().patch(
    '/api/v1/videos/:id',
    {
      preHandler: options.auth.requireKey,
      schema: {
        tags,
        security: [{ bearer: [] }],
        summary: 'Edit title, description, tags, category, language or visibility',
        description:
          'Tags are trimmed, NFC-normalised, lower-cased and de-duplicated (at most 20, each 1–40 characters: ' +
          'VIDEO_TAGS_INVALID); `category` is one of GET /api/v1/categories (VIDEO_CATEGORY_UNKNOWN); `language` ' +
          'a BCP 47 tag, stored canonical (VIDEO_LANGUAGE_INVALID). A refused edit changes nothing.',
        params,
        body: Type.Object(EditFields, { minProperties: 1, additionalProperties: false }),
        response: { 200: video, ...errorResponses(400, 401, 403, 404, 410) },
      },
    },
    async (request) =>
      toApi(await options.service.update(request.params.id, request.principal, request.body), request),
  );
}
