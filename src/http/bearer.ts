import type { FastifyRequest } from 'fastify';

/** The credential of `Authorization: Bearer <token>`, if the request sends one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}
