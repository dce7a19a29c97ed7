import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { errorResponses } from '../http/schemas.ts';
import { ListQuery } from './catalog-routes.ts';
import { listItemToApi, VideoListItemSchema } from './video-api.ts';
import { SEARCH_SORTS } from './video-list.ts';
import type { VideoRouteOptions } from './video-routes.ts';

const Ranges = Type.Array(Type.Object({ start: Type.Integer(), end: Type.Integer() }), {
  description:
    'UTF-16 offsets of the matched words (end exclusive): mark them up yourself, escaping the text',
});

const SearchPageSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      ...VideoListItemSchema.properties,
      highlights: Type.Object({
        title: Ranges,
        description: Type.Object({ snippet: Type.String(), ranges: Ranges }),
      }),
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  corrections: Type.Array(Type.Object({ from: Type.String(), to: Type.String() })),
});

const SearchQuery = Type.Object({
  ...ListQuery.properties,
  // Longer than the limit on purpose: a query over 200 characters gets SEARCH_QUERY_TOO_LONG, not a schema error.
  q: Type.String({ maxLength: 2000 }),
  sort: Type.Optional(Type.Union(SEARCH_SORTS.map((sort) => Type.Literal(sort)))),
});

const SEARCH_DESCRIPTION =
  'Full text over title (weighted highest), tags, then description, accents and case folded. ' +
  '`"a phrase"`, `-excluded`, `or`; the last word matches as a prefix. Words of 5–8 letters may be one ' +
  'typo off, 9+ two (`corrections` says which words were replaced). The list’s filters, sorts ' +
  '(`relevance` by default) and cursor pages apply. An empty query answers the list.';

/** Search and type-ahead over the public catalog (and, with a key, over what the list would show it). */
export async function searchRoutes(parent: FastifyInstance, options: VideoRouteOptions): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/v1/search',
    {
      preHandler: options.auth.credentialsIfSent,
      schema: {
        tags: ['search'],
        summary: 'Search videos (typo-tolerant)',
        description: SEARCH_DESCRIPTION,
        querystring: SearchQuery,
        response: { 200: SearchPageSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { tag, q, ...query } = request.query;
      const keyHolder = request.principal?.kind === 'api-key';
      const baseUrl = options.baseUrlOf(request);
      const page = await options.reader.search({ ...query, q, tags: tag }, request.principal);
      return {
        items: page.rows.map((row) => ({
          ...listItemToApi(row, baseUrl, options.links, keyHolder),
          highlights: row.highlights,
        })),
        nextCursor: page.nextCursor,
        corrections: page.corrections,
      };
    },
  );
  app.get(
    '/api/v1/search/suggest',
    {
      schema: {
        tags: ['search'],
        summary: 'Up to 8 completions (titles, then tags) for type-ahead',
        querystring: Type.Object({ q: Type.String({ maxLength: 200 }) }),
      },
    },
    async (request) => ({ items: await options.reader.suggest(request.query.q) }),
  );
}
