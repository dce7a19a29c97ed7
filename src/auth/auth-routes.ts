import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { errorResponses } from '../http/schemas.ts';
import { type Authenticator, principalOf } from './authenticator.ts';
import { ownerKeyId } from './principal.ts';
import type { UploadTokens } from './upload-tokens.ts';

export async function authRoutes(
  parent: FastifyInstance,
  options: { tokens: UploadTokens; auth: Authenticator; tokensPerMinute: number },
): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/v1/upload-tokens',
    {
      preHandler: options.auth.requireKey,
      // Per key: minting tokens must not become a way around the per-key upload limits.
      config: { rateLimit: { max: options.tokensPerMinute, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        security: [{ bearer: [] }],
        summary: 'Issue a short-lived token that may create and fill exactly one upload session',
        response: {
          201: Type.Object({ token: Type.String(), expiresAt: Type.String({ format: 'date-time' }) }),
          ...errorResponses(401, 403, 429),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await options.tokens.issue(ownerKeyId(principalOf(request)))),
  );
}
