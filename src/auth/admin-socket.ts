import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { installErrorHandling } from '../http/error-handler.ts';
import type { ApiKeys } from './api-keys.ts';
import type { Role } from './principal.ts';

/**
 * Key administration over a Unix socket in DATA_DIR, readable only by its owner. PGlite is
 * single-process: while a server holds the database, the CLI asks that server instead of opening it.
 */
export function adminSocketPath(dataDir: string): string {
  return path.join(dataDir, 'reel.sock');
}

/**
 * `serverUrl()` is where this server answers HTTP; it travels with each created key so the CLI saves
 * a URL that works even when the server runs on another PORT than the CLI's environment says.
 */
export async function startAdminSocket(
  dataDir: string,
  keys: ApiKeys,
  serverUrl: () => string | undefined,
): Promise<FastifyInstance> {
  const socket = adminSocketPath(dataDir);
  const app = Fastify({ logger: false });
  installErrorHandling(app);
  app.post<{ Body: { name: string; role?: Role } }>('/keys', async (request, reply) =>
    reply.status(201).send({
      ...(await keys.create(request.body?.name ?? '', request.body?.role)),
      serverUrl: serverUrl(),
    }),
  );
  app.get('/keys', async () => keys.list());
  app.delete<{ Params: { idOrName: string } }>('/keys/:idOrName', async (request) =>
    keys.revoke(decodeURIComponent(request.params.idOrName)),
  );
  await fs.mkdir(dataDir, { recursive: true });
  await fs.rm(socket, { force: true }); // a stale socket from a killed server
  await app.listen({ path: socket });
  await fs.chmod(socket, 0o600);
  return app;
}

/** True when a live server answers on the socket. */
export async function adminSocketAlive(dataDir: string): Promise<boolean> {
  try {
    await adminRequest(dataDir, 'GET', '/keys');
    return true;
  } catch {
    return false;
  }
}

export function adminRequest(
  dataDir: string,
  method: string,
  urlPath: string,
  body?: unknown,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(
      {
        socketPath: adminSocketPath(dataDir),
        method,
        path: urlPath,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
        timeout: 5000,
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          const parsed = text ? JSON.parse(text) : undefined;
          if ((response.statusCode ?? 500) >= 400) {
            reject(new Error(parsed?.error?.message ?? `admin socket answered ${response.statusCode}`));
          } else resolve(parsed);
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('admin socket timed out')));
    request.on('error', reject);
    request.end(payload);
  });
}
