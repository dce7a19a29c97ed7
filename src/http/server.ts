import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { errors } from '../errors.ts';
import { installErrorHandling } from './error-handler.ts';
import { ErrorBody } from './schemas.ts';
import { strictBodyValidators } from './validators.ts';

export interface ServerOptions {
  /** The process's logger (Fastify adds its request serializers). */
  logger: FastifyBaseLogger;
  redis: Redis | undefined;
  /** Chunk bodies are streamed, not parsed; this bounds the JSON bodies only. */
  bodyLimit?: number;
  /** Origins allowed to call the API and fetch media from a browser: '*' (default) or an allow-list. */
  corsOrigins?: '*' | string[];
  /**
   * The reverse proxies (addresses/CIDRs) whose X-Forwarded-For/-Host/-Proto are believed; none by
   * default, so a client cannot choose its IP (rate-limit key), host or scheme.
   */
  trustProxy?: string[] | false;
  /** The rate-limit bucket of a request (the API key behind its credentials, else its address). */
  rateLimitKey?: (request: FastifyRequest) => Promise<string>;
  /** The longest a request may take to arrive, body included (slowloris bound). */
  requestTimeoutMs?: number;
}

/** Fastify with Reel's cross-cutting concerns; routes are registered by the caller. */
export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    trustProxy: options.trustProxy || false,
    requestTimeout: options.requestTimeoutMs ?? 600_000,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' } },
    schemaController: { compilersFactory: { buildValidator: strictBodyValidators } },
  });
  app.decorateRequest('principal', undefined);
  app.addSchema(ErrorBody);
  installErrorHandling(app);

  await app.register(helmet, {
    // Media and API responses are fetched cross-origin by players; the API serves no HTML of its own
    // except the docs UI, which needs inline scripts.
    contentSecurityPolicy: false,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginEmbedderPolicy: false,
  });
  // Players fetch playlists and segments cross-origin (hls.js uses fetch/XHR): preflights must allow
  // Range and conditional headers, and the range answers must be readable by the page.
  const corsOrigins = options.corsOrigins ?? '*';
  await app.register(cors, {
    // An allow-list is matched exactly and reflected (with `Vary: Origin`); other origins get no CORS headers.
    origin: corsOrigins === '*' ? '*' : corsOrigins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: [
      'Authorization',
      'Content-Type',
      'Content-Digest',
      'Range',
      'If-Range',
      'If-None-Match',
      'If-Modified-Since',
    ],
    exposedHeaders: [
      'Content-Range',
      'Content-Length',
      'Accept-Ranges',
      'Content-Encoding',
      'ETag',
      'Retry-After',
    ],
    maxAge: 86_400,
  });
  await app.register(rateLimit, {
    global: false,
    redis: options.redis,
    nameSpace: 'reel-rate-limit:',
    skipOnError: true,
    // Per credential when one is sent (many uploaders may share a NAT), else per IP.
    keyGenerator: options.rateLimitKey ?? ((request) => `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) =>
      errors.rateLimited(Math.max(1, Math.ceil(context.ttl / 1000))),
  });
  await app.register(swagger, {
    // Shared schemas appear in OpenAPI under their own $id (`Video`, `Error`), not def-N.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      info: {
        title: 'Reel API',
        version: '1',
        description: 'Self-hosted video platform: resumable uploads, processing, playback.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  return app;
}
