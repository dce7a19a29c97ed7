import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../errors.ts';
import { bearerToken } from '../http/bearer.ts';
import type { ApiKeys } from './api-keys.ts';
import { ownerKeyId, type Principal } from './principal.ts';
import type { UploadTokens } from './upload-tokens.ts';

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
  /** preHandler: anonymous is fine, but credentials that are sent must be valid (401 otherwise). */
  credentialsIfSent(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /**
   * The rate-limit bucket of a request: the API key behind its credentials (an upload token counts
   * against the key that issued it), else the client address.
   */
  rateLimitKey(request: FastifyRequest): Promise<string>;
}

/**
 * The principal a `requireKey` / `requireKeyOrUploadToken` preHandler established. Asking for it on a
 * route without one is a programming error, answered as missing credentials rather than trusted.
 */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw errors.authRequired('Send an API key as "Authorization: Bearer <key>"');
  return request.principal;
}

export function createAuthenticator(keys: ApiKeys, tokens: UploadTokens): Authenticator {
  // One lookup per request, however many hooks ask (rate limiting runs before the route's preHandler).
  const resolved = new WeakMap<FastifyRequest, Promise<Principal>>();
  const identify = (request: FastifyRequest): Promise<Principal> => {
    let principal = resolved.get(request);
    if (!principal) {
      principal = verify(bearerToken(request));
      principal.catch(() => {}); // observed by whoever awaits it
      resolved.set(request, principal);
    }
    return principal;
  };
  async function verify(token: string | undefined): Promise<Principal> {
    if (!token) throw errors.authRequired('Send an API key as "Authorization: Bearer <key>"');
    if (token.startsWith('rut_')) {
      const grant = await tokens.verify(token);
      if (!grant) throw errors.authInvalid('The upload token is invalid or expired');
      return { kind: 'upload-token', ...grant };
    }
    const key = await keys.verify(token);
    if (!key) throw errors.authInvalid('The API key is invalid or revoked');
    return { kind: 'api-key', keyId: key.id, role: key.role };
  }
  return {
    async requireKey(request) {
      const principal = await identify(request);
      if (principal.kind !== 'api-key') {
        throw errors.forbidden('An upload token cannot be used here; use an API key');
      }
      request.principal = principal;
    },
    async requireKeyOrUploadToken(request) {
      request.principal = await identify(request);
    },
    async credentialsIfSent(request) {
      if (request.headers.authorization !== undefined) request.principal = await identify(request);
    },
    async rateLimitKey(request) {
      if (bearerToken(request)) {
        const principal = await identify(request).catch(() => undefined);
        if (principal) return `key:${ownerKeyId(principal)}`;
      }
      return `ip:${request.ip}`;
    },
  };
}
