import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { errorResponses, TextLine } from '../http/schemas.ts';
import { listItemToApi, VideoPageSchema } from './video-api.ts';
import { CATEGORIES } from './video-fields.ts';
import { LIST_SORTS, LISTED_STATUSES, MAX_LIST_LIMIT } from './video-list.ts';
import type { VideoRouteOptions } from './video-routes.ts';

const literals = <T extends string>(values: readonly T[]) =>
  Type.Union(values.map((value) => Type.Literal(value)));

export const ListQuery = Type.Object({
  sort: Type.Optional(literals(LIST_SORTS)),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIST_LIMIT })),
  cursor: Type.Optional(Type.String({ maxLength: 2000, description: 'The previous page’s nextCursor' })),
  category: Type.Optional(Type.String({ maxLength: 40 })),
  tag: Type.Optional(Type.Array(TextLine({ minLength: 1, maxLength: 40 }), { maxItems: 20 })),
  tagMode: Type.Optional(literals(['any', 'all'] as const)),
  durationMin: Type.Optional(Type.Number({ minimum: 0 })),
  durationMax: Type.Optional(Type.Number({ minimum: 0 })),
  uploadedAfter: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601' })),
  uploadedBefore: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601' })),
  status: Type.Optional(literals(LISTED_STATUSES)),
  owner: Type.Optional(Type.Literal('me')),
});

const LIST_DESCRIPTION =
  'Public, ready videos by default, newest first. `owner=me` (API key): your own videos, any visibility and ' +
  'status. `status` (API key): an admin sees every video in that status, a member its own. Keyset pages: ' +
  'pass `nextCursor` back as `cursor` (with the same filters); no item repeats or goes missing while videos ' +
  'are added or deleted between pages. `views`/`trending` are 0 until view counting lands; ties break by id.';

/** The catalog: list, categories and tags. */
export async function catalogRoutes(parent: FastifyInstance, options: VideoRouteOptions): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { reader, auth } = options;
  app.get(
    '/api/v1/videos',
    {
      preHandler: auth.credentialsIfSent,
      schema: {
        tags: ['videos'],
        summary: 'Browse videos: filters, sorts, cursor pages',
        description: LIST_DESCRIPTION,
        querystring: ListQuery,
        response: { 200: VideoPageSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { tag, ...query } = request.query;
      const page = await reader.list({ ...query, tags: tag }, request.principal);
      const baseUrl = options.baseUrlOf(request);
      const keyHolder = request.principal?.kind === 'api-key';
      return {
        items: page.rows.map((row) => listItemToApi(row, baseUrl, options.links, keyHolder)),
        nextCursor: page.nextCursor,
      };
    },
  );
  app.get(
    '/api/v1/categories',
    { schema: { tags: ['videos'], summary: 'The categories a video may have' } },
    async () => ({ items: CATEGORIES }),
  );
  app.get(
    '/api/v1/tags',
    {
      schema: {
        tags: ['videos'],
        summary: 'The most used tags of public videos, optionally starting with `prefix`',
        querystring: Type.Object({ prefix: Type.Optional(TextLine({ maxLength: 40 })) }),
      },
    },
    async (request) => ({ items: await reader.tags(request.query.prefix ?? '') }),
  );
}
