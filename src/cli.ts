#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from './app.ts';
import { adminRequest, adminSocketAlive, startAdminSocket } from './auth/admin-socket.ts';
import { type ApiKeyInfo, ApiKeys } from './auth/api-keys.ts';
import type { Role } from './auth/principal.ts';
import { saveCliCredentials } from './client/credentials.ts';
import { type Config, ConfigError, cliCredentialsPath, loadConfig } from './config.ts';
import { AppError, errors } from './errors.ts';
import { openDatabase } from './platform/db/database.ts';
import { migrate } from './platform/db/migrations.ts';
import { startWorker } from './worker.ts';

const USAGE = `reel — self-hosted video platform

Usage:
  reel serve [--no-workers]          HTTP API + web app (+ background workers)
  reel worker                        transcoding workers only (needs DATABASE_URL)
  reel migrate                       apply database migrations
  reel keys create --name NAME [--role admin|member]
                                     create an API key (printed once, on the last line);
                                     the first key is an admin, later ones members by default
  reel keys list                     list API keys
  reel keys revoke ID|NAME           revoke an API key
  reel upload FILE… [--title T] [--parallel 4] [--chunk-size 8MiB]
                                     resumable upload to a Reel server (REEL_URL, REEL_API_KEY)
  reel status VIDEO_ID               show a video's status
  reel list [--q TEXT] [--status processing|failed|ready] [--owner me]
            [--sort newest|oldest|duration|title|views|trending] [--limit N] [--all] [--json]
                                     list (or with --q search) videos
  reel edit VIDEO_ID [--title T] [--description D] [--tags a,b] [--category C]
            [--language L] [--visibility public|unlisted|private] [--json]
                                     change a video's details
  reel delete VIDEO_ID               delete a video and its files

Configuration comes from environment variables; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'worker':
      return worker();
    case 'migrate':
      return runMigrate();
    case 'keys':
      return keys(rest);
    case 'upload':
    case 'status': {
      const { runClientCommand } = await import('./client/client-commands.ts');
      return runClientCommand(command, rest);
    }
    case 'list':
    case 'edit':
    case 'delete': {
      const { runCatalogCommand } = await import('./client/catalog-commands.ts');
      return runCatalogCommand(command, rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 1 : 0;
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 1;
  }
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'no-workers': { type: 'boolean', default: false } } });
  const config = loadConfig();
  if (values['no-workers']) config.workers.enabled = false;
  if (!config.databaseUrl && (await adminSocketAlive(config.dataDir))) {
    console.error(
      `Another Reel server is already using ${config.dataDir} (embedded database is single-process).`,
    );
    return 1;
  }
  if (!config.databaseUrl && !existsSync(path.join(config.dataDir, 'db'))) {
    // Create a new embedded database in a short-lived child process: initdb's peak (≈ 1 GB of WASM
    // memory, never returned) then stays out of the long-running server's resident set.
    const code = await new Promise<number | null>((resolve) =>
      spawn(process.execPath, [...process.execArgv, import.meta.filename, 'migrate'], {
        stdio: 'inherit',
      }).once('exit', resolve),
    );
    if (code !== 0) return 1;
  }
  const app = await createApp(config, { logger: { level: config.logLevel } });
  const serverUrl = () => {
    const address = app.http.server.address();
    return (
      config.publicBaseUrl ??
      (address && typeof address === 'object' ? `http://localhost:${address.port}` : undefined)
    );
  };
  const admin = config.databaseUrl
    ? undefined
    : await startAdminSocket(config.dataDir, app.auth.apiKeys, serverUrl);
  await app.http.listen({ port: config.port, host: config.host });
  if (config.workers.enabled) await app.startWorkers();
  const shutdown = onceShutdown(async () => {
    app.http.log.info('shutting down: no new requests or jobs; finishing running ones');
    await admin?.close();
    await app.close();
  });
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return new Promise(() => {}); // runs until a signal
}

function onceShutdown(close: () => Promise<void>) {
  let closing = false;
  return async () => {
    if (closing) return;
    closing = true;
    const timer = setTimeout(() => process.exit(1), 30_000);
    timer.unref();
    await close();
    process.exit(0);
  };
}

/** Workers only: a transcoding node of a scale-out deployment. */
async function worker(): Promise<number> {
  const config = loadConfig();
  if (!config.databaseUrl) {
    console.error(
      'reel worker needs DATABASE_URL: the embedded database serves one process (use `reel serve`).',
    );
    return 1;
  }
  const worker = await startWorker(config, { logger: { level: config.logLevel } });
  const shutdown = onceShutdown(() => worker.close());
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return new Promise(() => {});
}

async function runMigrate(): Promise<number> {
  const config = loadConfig();
  const database = await openDatabase(config);
  try {
    const ran = await migrate(database.db);
    console.log(ran.length ? `Applied: ${ran.join(', ')}` : 'Database is up to date.');
    return 0;
  } finally {
    await database.close();
  }
}

/** Key administration: through a running embedded server's socket, else directly on the database. */
interface KeyAdmin {
  /** serverUrl: where the running server answers, when the key was made through it. */
  create(name: string, role?: Role): Promise<{ key: ApiKeyInfo; secret: string; serverUrl?: string }>;
  list(): Promise<ApiKeyInfo[]>;
  revoke(idOrName: string): Promise<ApiKeyInfo>;
  close(): Promise<void>;
}

async function keyAdmin(config: Config): Promise<KeyAdmin> {
  if (!config.databaseUrl && (await adminSocketAlive(config.dataDir))) {
    const dir = config.dataDir;
    return {
      create: (name, role) =>
        adminRequest(dir, 'POST', '/keys', { name, role }) as Promise<{
          key: ApiKeyInfo;
          secret: string;
          serverUrl?: string;
        }>,
      list: () => adminRequest(dir, 'GET', '/keys') as Promise<ApiKeyInfo[]>,
      revoke: (idOrName) =>
        adminRequest(dir, 'DELETE', `/keys/${encodeURIComponent(idOrName)}`) as Promise<ApiKeyInfo>,
      close: async () => {},
    };
  }
  const database = await openDatabase(config);
  await migrate(database.db);
  const keys = new ApiKeys(database.db);
  return {
    create: (name, role) => keys.create(name, role),
    list: () => keys.list(),
    revoke: (idOrName) => keys.revoke(idOrName),
    close: () => database.close(),
  };
}

async function keys(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, role: { type: 'string' } },
    allowPositionals: true,
  });
  const config = loadConfig();
  const admin = await keyAdmin(config);
  try {
    if (action === 'create') {
      if (!values.name) throw errors.validation('keys create needs --name NAME');
      // The role is validated where keys are made (ApiKeys.create), whichever way the CLI reaches it.
      const { key, secret, serverUrl } = await admin.create(values.name, values.role as Role | undefined);
      console.error(
        `Created API key ${key.id} ("${key.name}", ${key.role}). It is shown once; store it now:`,
      );
      const saved = cliCredentialsPath(config.dataDir);
      const baseUrl = serverUrl ?? config.publicBaseUrl ?? `http://localhost:${config.port}`;
      await saveCliCredentials(saved, { apiKey: secret, baseUrl }).then(
        () => console.error(`Saved it for \`reel upload\` on this machine in ${saved} (mode 0600).`),
        (error: Error) => console.error(`Could not save it to ${saved}: ${error.message}`),
      );
      console.log(secret);
    } else if (action === 'list') {
      const list = await admin.list();
      if (list.length === 0) console.log('No API keys. Create one with: reel keys create --name NAME');
      for (const key of list) {
        const state = key.revokedAt ? `revoked ${iso(key.revokedAt)}` : 'active';
        const used = key.lastUsedAt ? `last used ${iso(key.lastUsedAt)}` : 'never used';
        console.log(
          `${key.id}  ${key.name.padEnd(20)}  ${key.role.padEnd(6)}  ${state.padEnd(32)}  created ${iso(key.createdAt)}  ${used}`,
        );
      }
    } else if (action === 'revoke') {
      const target = positionals[0];
      if (!target) throw errors.validation('keys revoke needs a key id or name');
      const key = await admin.revoke(target);
      console.log(`Revoked ${key.id} ("${key.name}").`);
    } else {
      console.error(
        'Usage: reel keys create --name NAME [--role admin|member] | keys list | keys revoke ID|NAME',
      );
      return 1;
    }
    return 0;
  } finally {
    await admin.close();
  }
}

function iso(value: Date | string): string {
  return new Date(value).toISOString().slice(0, 19).replace('T', ' ');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof AppError) console.error(`reel: ${error.message}`);
    else console.error(error);
    process.exitCode = 1;
  },
);
