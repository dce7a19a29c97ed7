import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyServerOptions } from 'fastify';
import { type App, createApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { type Database, openPGlite } from '../../src/platform/db/database.ts';
import { forEachDatabase } from './databases.ts';
import { type RunningS3rver, startS3rver } from './s3rver.ts';

export interface TestApp {
  app: App;
  dir: string;
  apiKey: string;
  s3: RunningS3rver | undefined;
  /** `fetch`-free requests through fastify.inject, with the API key unless `auth: null`. */
  request(options: {
    method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD' | 'OPTIONS';
    url: string;
    json?: unknown;
    body?: Buffer | string;
    headers?: Record<string, string>;
    auth?: string | null;
  }): Promise<{ statusCode: number; headers: Record<string, unknown>; json: () => any; body: string }>;
  close(): Promise<void>;
}

/**
 * A whole Reel (PGlite in memory or a given database, local disk or s3rver) for one test file.
 * Env overrides go through loadConfig, the same path production takes.
 */
export async function startTestApp(
  options: {
    storage?: 'local' | 's3';
    env?: Record<string, string>;
    database?: Database;
    /** true: info-level logs on stdout; an object: Fastify logger options (e.g. a capturing stream). */
    logger?: boolean | FastifyServerOptions['logger'];
  } = {},
): Promise<TestApp> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-test-'));
  const s3 = options.storage === 's3' ? await startS3rver() : undefined;
  const s3Env: Record<string, string> = s3
    ? {
        S3_BUCKET: s3.bucket,
        S3_ENDPOINT: s3.endpoint,
        S3_REGION: s3.config.region,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      }
    : {};
  const config: Config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', ...s3Env, ...options.env });
  const ownDatabase = options.database ? undefined : await openPGlite(undefined);
  const app = await createApp(config, {
    database: options.database ?? ownDatabase,
    logger: options.logger === true ? { level: 'info' } : (options.logger ?? false),
  });
  const { secret } = await app.auth.apiKeys.create('test');
  return {
    app,
    dir,
    apiKey: secret,
    s3,
    async request({ method, url, json, body, headers = {}, auth }) {
      const token = auth === undefined ? secret : auth;
      const response = await app.http.inject({
        method,
        url,
        payload: json === undefined ? body : JSON.stringify(json),
        headers: {
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
      });
      return {
        statusCode: response.statusCode,
        headers: response.headers as Record<string, unknown>,
        json: () => response.json(),
        body: response.body,
      };
    },
    async close() {
      await app.close();
      await ownDatabase?.close();
      await s3?.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `suite` once per database Reel supports, each with a whole app on it: PGlite always, PostgreSQL
 * when TEST_DATABASE_URL is set (a database of its own, dropped when the suite passed).
 */
export function forEachDatabaseApp(
  what: string,
  suite: (name: string, start: () => Promise<TestApp>) => void,
  options: { env?: Record<string, string> } = {},
): void {
  forEachDatabase(what, (name, open) =>
    suite(name, async () => {
      const fixture = await open();
      const t = await startTestApp({ database: fixture.first, env: options.env });
      return {
        ...t,
        async close() {
          await t.close();
          await fixture.cleanup(true);
        },
      };
    }),
  );
}
