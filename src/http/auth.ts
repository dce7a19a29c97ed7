import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeys } from '../auth/api-keys.ts';
import type { Principal } from '../auth/principal.ts';
import type { UploadTokens } from '../auth/upload-tokens.ts';
import { errors } from '../errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

export interface Authenticator {
  /** preHandler: an API key is required. */
  requireKey(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** preHandler: an API key or an upload token is required. */
  requireKeyOrUploadToken(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

export function createAuthenticator(keys: ApiKeys, tokens: UploadTokens): Authenticator {
  async function resolve(request: FastifyRequest, allowUploadToken: boolean): Promise<Principal> {
    const token = bearerToken(request);
    if (!token) throw errors.authRequired('Send an API key as "Authorization: Bearer <key>"');
    if (token.startsWith('rut_')) {
      const grant = await tokens.verify(token);
      if (!grant) throw errors.authInvalid('The upload token is invalid or expired');
      if (!allowUploadToken) throw errors.forbidden('An upload token cannot be used here; use an API key');
      return { kind: 'upload-token', ...grant };
    }
    const key = await keys.verify(token);
    if (!key) throw errors.authInvalid('The API key is invalid or revoked');
    return { kind: 'api-key', keyId: key.id };
  }
  return {
    async requireKey(request) {
      request.principal = await resolve(request, false);
    },
    async requireKeyOrUploadToken(request) {
      request.principal = await resolve(request, true);
    },
  };
}
