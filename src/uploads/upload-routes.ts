import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type Authenticator, principalOf } from '../auth/authenticator.ts';
import { ConcurrencyGate } from '../http/concurrency-gate.ts';
import { errorResponses, IdParam, TextBlock, TextLine } from '../http/schemas.ts';
import type { UploadService } from './upload-service.ts';

const CreateBody = Type.Object({
  filename: TextLine({ minLength: 1, maxLength: 255 }),
  size: Type.Integer({ minimum: 1, description: 'Total file size in bytes' }),
  contentType: Type.String({ minLength: 1, maxLength: 100 }),
  sha256: Type.Optional(
    Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'Whole-file SHA-256 (hex)' }),
  ),
  chunkSize: Type.Optional(Type.Integer({ minimum: 1, description: 'Proposed chunk size in bytes' })),
});

const Session = Type.Object({
  id: Type.String(),
  chunkSize: Type.Integer(),
  totalChunks: Type.Integer(),
  expiresAt: Type.String({ format: 'date-time' }),
});

const Status = Type.Object({
  id: Type.String(),
  state: Type.String(),
  filename: Type.String(),
  size: Type.Integer(),
  chunkSize: Type.Integer(),
  totalChunks: Type.Integer(),
  receivedChunks: Type.Integer(),
  missingChunks: Type.Array(Type.Integer()),
  bytesReceived: Type.Integer(),
  expiresAt: Type.String({ format: 'date-time' }),
  videoId: Type.Union([Type.String(), Type.Null()]),
});

const ChunkReceipt = Type.Object({
  index: Type.Integer(),
  duplicate: Type.Boolean(),
  receivedChunks: Type.Integer(),
  totalChunks: Type.Integer(),
});

/** A chunk index as the path spells it: a plain decimal integer (no `01`, `0x1`, `1e0`). */
const ChunkIndex = Type.String({ pattern: '^(0|[1-9][0-9]{0,8})$', description: '0-based chunk index' });

const CompleteBody = Type.Object({
  title: Type.Optional(TextLine({ maxLength: 200 })),
  description: Type.Optional(TextBlock({ maxLength: 5000 })),
  tags: Type.Optional(Type.Array(TextLine({ minLength: 1, maxLength: 50 }), { maxItems: 30 })),
  visibility: Type.Optional(
    Type.Union([Type.Literal('public'), Type.Literal('unlisted'), Type.Literal('private')]),
  ),
  category: Type.Optional(Type.String({ maxLength: 40, description: 'One of GET /api/v1/categories' })),
  language: Type.Optional(Type.String({ maxLength: 35, description: 'BCP 47' })),
});

export interface UploadRouteOptions {
  service: UploadService;
  auth: Authenticator;
  rateLimit: { uploadsPerMinute: number; chunksPerMinute: number };
  /** Chunk PUTs one client address may have in flight on this node. */
  maxConcurrentChunksPerIp: number;
}

const tags = ['uploads'];
const security = [{ bearer: [] }];
const params = Type.Object({ id: IdParam });
const perMinute = (max: number) => ({ rateLimit: { max, timeWindow: 60_000 } });

/** The resumable upload protocol (DESIGN.md "Upload protocol"). */
export async function uploadRoutes(parent: FastifyInstance, options: UploadRouteOptions): Promise<void> {
  sessionRoutes(parent, options);
  await parent.register((chunks) => chunkRoute(chunks, options));
  completeRoute(parent, options);
}

/** Create, inspect and abort a session. */
function sessionRoutes(parent: FastifyInstance, { service, auth, rateLimit }: UploadRouteOptions) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/v1/uploads',
    {
      preHandler: auth.requireKeyOrUploadToken,
      config: perMinute(rateLimit.uploadsPerMinute),
      schema: {
        tags,
        security,
        summary: 'Start a resumable upload session',
        body: CreateBody,
        response: { 201: Session, ...errorResponses(400, 401, 403, 413, 415, 422, 429) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.create(principalOf(request), request.body)),
  );
  app.get(
    '/api/v1/uploads/:id',
    {
      preHandler: auth.requireKeyOrUploadToken,
      schema: {
        tags,
        security,
        summary: 'What the server has: resume from missingChunks',
        params,
        response: { 200: Status, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => service.status(principalOf(request), request.params.id),
  );
  app.delete(
    '/api/v1/uploads/:id',
    {
      preHandler: auth.requireKeyOrUploadToken,
      schema: {
        tags,
        security,
        summary: 'Abort the upload and free its storage',
        params,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await service.abort(principalOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}

/** One chunk: its own plugin, because chunk bodies are streamed to storage untouched (no parsing, no buffering). */
async function chunkRoute(
  chunks: FastifyInstance,
  { service, auth, rateLimit, maxConcurrentChunksPerIp }: UploadRouteOptions,
) {
  chunks.removeAllContentTypeParsers();
  chunks.addContentTypeParser('*', (_request, _payload, done) => done(null));
  const inFlight = new ConcurrencyGate(maxConcurrentChunksPerIp, 1);
  chunks.withTypeProvider<TypeBoxTypeProvider>().put(
    '/api/v1/uploads/:id/chunks/:index',
    {
      preHandler: auth.requireKeyOrUploadToken,
      config: perMinute(rateLimit.chunksPerMinute),
      schema: {
        tags,
        security,
        summary: 'Send one chunk (raw bytes) with Content-Digest: sha-256=:<base64>:',
        description: 'Idempotent; chunks may arrive in any order and in parallel.',
        params: Type.Object({ id: IdParam, index: ChunkIndex }),
        headers: Type.Object({ 'content-digest': Type.Optional(Type.String()) }),
        response: { 200: ChunkReceipt, ...errorResponses(400, 401, 403, 404, 409, 410, 415, 422, 429) },
      },
    },
    async (request) => {
      const length = request.headers['content-length'];
      const release = inFlight.enter(request.ip);
      try {
        return await service.receiveChunk(
          principalOf(request),
          request.params.id,
          Number(request.params.index),
          request.raw,
          {
            contentDigest: request.headers['content-digest'],
            contentLength: length === undefined ? undefined : Number(length),
          },
        );
      } finally {
        release();
      }
    },
  );
}

function completeRoute(parent: FastifyInstance, { service, auth, rateLimit }: UploadRouteOptions) {
  parent.withTypeProvider<TypeBoxTypeProvider>().post(
    '/api/v1/uploads/:id/complete',
    {
      preHandler: auth.requireKeyOrUploadToken,
      config: perMinute(rateLimit.uploadsPerMinute),
      // Every field is optional, so is the body itself.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags,
        security,
        summary: 'Verify, probe and turn the upload into a video (processing starts in the background)',
        params,
        body: CompleteBody,
        response: {
          202: Type.Object({ videoId: Type.String() }),
          ...errorResponses(401, 403, 404, 409, 410, 422),
        },
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(await service.complete(principalOf(request), request.params.id, request.body ?? {})),
  );
}
