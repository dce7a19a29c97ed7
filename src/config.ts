import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { bool, bytes, ConfigError, type Env, fraction, int, list } from './config-values.ts';
import { parseHostPort } from './http/public-origin.ts';
import type { StorageConfig } from './platform/storage/storage-config.ts';

export { ConfigError } from './config-values.ts';
export type { LocalStorageConfig, S3StorageConfig } from './platform/storage/storage-config.ts';

/** Typed, validated configuration. The only module that reads process.env. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** PostgreSQL connection string; absent → embedded PGlite under dataDir/db. */
  databaseUrl: string | undefined;
  /** DATABASE_READ_URL: a read replica for lists, search and suggestions; absent → the primary. */
  databaseReadUrl: string | undefined;
  redisUrl: string | undefined;
  /** REDIS_KEY_PREFIX: cache keys and change channels live under it, so deployments can share a Redis. */
  redisKeyPrefix: string;
  /** CACHE_TTL_SECONDS: how long catalog answers (a video, list and search pages) are cached; 0 → off. */
  cacheTtlSeconds: number;
  storage: StorageConfig;
  publicBaseUrl: string | undefined;
  logLevel: string;
  workers: { enabled: boolean; transcodeConcurrency: number };
  jobs: {
    retryLimit: number;
    retryDelaySeconds: number;
    heartbeatSeconds: number;
    monitorIntervalSeconds: number;
  };
  processing: ProcessingConfig;
  uploads: UploadLimits;
  /** SSE_MAX_CONNECTIONS_PER_IP: open event streams one client address may hold (per node). */
  events: { maxConnectionsPerIp: number };
  rateLimit: { uploadsPerMinute: number; chunksPerMinute: number; uploadTokensPerMinute: number };
  /** REQUEST_TIMEOUT_SECONDS: the longest a request may take to arrive, body included. */
  requestTimeoutSeconds: number;
  ffmpegPath: string | undefined;
  ffprobePath: string | undefined;
  delivery: DeliveryConfig;
  http: HttpConfig;
  views: ViewsConfig;
}

/** Playback analytics: when a view counts, how beacons are held and limited (README: "Views"). */
export interface ViewsConfig {
  /** VIEW_MIN_SECONDS, VIEW_MIN_FRACTION, VIEW_DEDUP_MINUTES. */
  rules: { minSeconds: number; minFraction: number; dedupMinutes: number };
  /** VIEW_FLUSH_SECONDS: how long acknowledged beacons wait in memory before they are written (the most a crash loses). */
  flushSeconds: number;
  /** RATE_LIMIT_BEACONS_PER_MINUTE (per client address) and RATE_LIMIT_BEACONS_PER_MINUTE_PER_VIEWER. */
  beaconsPerMinutePerIp: number;
  beaconsPerMinutePerViewer: number;
}

/** What the HTTP edge believes of a request's headers, and who may read /metrics. */
export interface HttpConfig {
  /** TRUST_PROXY: addresses/CIDRs of the reverse proxies whose X-Forwarded-* are believed; false → none. */
  trustProxy: string[] | false;
  /** ALLOWED_HOSTS: `host[:port]` values an absolute playback URL may name (from Host / X-Forwarded-Host). */
  allowedHosts: string[];
  /** METRICS_TOKEN: the bearer token /metrics requires; absent → /metrics is open. */
  metricsToken: string | undefined;
}

/** How media (playlists, segments, MP4, images) reach players. */
export interface DeliveryConfig {
  /** CORS_ORIGINS: '*' (default) or an allow-list of origins (`https://example.com`). */
  corsOrigins: '*' | string[];
  /**
   * MEDIA_DELIVERY: `stream` (default) sends every byte through Reel; `redirect` answers segments,
   * init files, images and the MP4 with a 302 to PUBLIC_MEDIA_BASE_URL + key (a CDN) or to a
   * presigned S3 URL. Playlists and VTT are always served by Reel.
   */
  mode: 'stream' | 'redirect';
  /** PUBLIC_MEDIA_BASE_URL: where storage keys are publicly readable (a CDN in front of the bucket). */
  publicMediaBaseUrl: string | undefined;
  /** SIGNED_URL_TTL_SECONDS: lifetime of the signed playback URLs of private videos (default 6 h). */
  signedUrlTtlSeconds: number;
  /** SIGNING_SECRET: the HMAC key of signed URLs; absent → generated once and kept in the database. */
  signingSecret: string | undefined;
}

export interface ProcessingConfig {
  /** Where ffmpeg writes before publishing to storage. */
  workDir: string;
  segmentSeconds: number;
  preset: string;
  mp4Download: boolean;
}

export interface UploadLimits {
  defaultChunkSize: number;
  minChunkSize: number;
  maxChunkSize: number;
  minSize: number;
  maxSize: number;
  sessionTtlSeconds: number;
  maxDurationSeconds: number;
  maxWidth: number;
  maxHeight: number;
  uploadTokenTtlSeconds: number;
  /** UPLOAD_MAX_ACTIVE_SESSIONS: open (active or completing) sessions one key may hold. */
  maxActiveSessions: number;
  /** UPLOAD_MAX_RESERVED_BYTES: total size of one key's open sessions. */
  maxReservedBytes: number;
  /** UPLOAD_IDLE_TIMEOUT_SECONDS: a chunk body that sends nothing this long is dropped, uncounted. */
  idleTimeoutSeconds: number;
  /** UPLOAD_MAX_CONCURRENT_CHUNKS_PER_IP: chunk PUTs one client address may have in flight (per node). */
  maxConcurrentChunksPerIp: number;
}

const MiB = 1024 * 1024;

export function loadConfig(env: Env = process.env): Config {
  const dataDir = path.resolve(env.DATA_DIR ?? './data');
  const storage = storageOf(env, dataDir);
  return {
    port: int(env, 'PORT', 8080, 0, 65535),
    host: env.HOST ?? '0.0.0.0',
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    databaseReadUrl: databaseReadUrl(env),
    redisUrl: env.REDIS_URL || undefined,
    redisKeyPrefix: redisKeyPrefix(env.REDIS_KEY_PREFIX),
    cacheTtlSeconds: int(env, 'CACHE_TTL_SECONDS', 30, 0, 3600),
    storage,
    publicBaseUrl: publicBaseUrl(env.PUBLIC_BASE_URL),
    logLevel: env.LOG_LEVEL ?? 'info',
    workers: {
      enabled: bool(env, 'WORKERS', true),
      transcodeConcurrency: int(env, 'TRANSCODE_CONCURRENCY', 1, 1, 64),
    },
    jobs: {
      retryLimit: int(env, 'JOB_RETRY_LIMIT', 3, 0, 100),
      retryDelaySeconds: int(env, 'JOB_RETRY_DELAY_SECONDS', 15, 0),
      heartbeatSeconds: int(env, 'JOB_HEARTBEAT_SECONDS', 30, 10),
      monitorIntervalSeconds: int(env, 'JOB_MONITOR_INTERVAL_SECONDS', 15, 1),
    },
    processing: {
      workDir: path.resolve(env.WORK_DIR ?? path.join(dataDir, 'work')),
      segmentSeconds: segmentSeconds(env),
      preset: env.X264_PRESET ?? 'veryfast',
      mp4Download: bool(env, 'MP4_DOWNLOAD', true),
    },
    uploads: uploadLimits(env, storage),
    rateLimit: {
      uploadsPerMinute: int(env, 'RATE_LIMIT_UPLOADS_PER_MINUTE', 60, 1),
      chunksPerMinute: int(env, 'RATE_LIMIT_CHUNKS_PER_MINUTE', 3000, 1),
      uploadTokensPerMinute: int(env, 'RATE_LIMIT_UPLOAD_TOKENS_PER_MINUTE', 60, 1),
    },
    requestTimeoutSeconds: int(env, 'REQUEST_TIMEOUT_SECONDS', 600, 1),
    events: { maxConnectionsPerIp: int(env, 'SSE_MAX_CONNECTIONS_PER_IP', 20, 1) },
    ffmpegPath: env.FFMPEG_PATH || undefined,
    ffprobePath: env.FFPROBE_PATH || undefined,
    delivery: delivery(env, storage),
    http: httpEdge(env),
    views: {
      rules: {
        minSeconds: int(env, 'VIEW_MIN_SECONDS', 30, 1, 3600),
        minFraction: fraction(env, 'VIEW_MIN_FRACTION', 0.5),
        dedupMinutes: int(env, 'VIEW_DEDUP_MINUTES', 30, 0, 1440),
      },
      flushSeconds: int(env, 'VIEW_FLUSH_SECONDS', 2, 1, 60),
      beaconsPerMinutePerIp: int(env, 'RATE_LIMIT_BEACONS_PER_MINUTE', 600, 1),
      beaconsPerMinutePerViewer: int(env, 'RATE_LIMIT_BEACONS_PER_MINUTE_PER_VIEWER', 120, 1),
    },
  };
}

function redisKeyPrefix(raw: string | undefined): string {
  const prefix = raw ?? 'reel:';
  if (!/^[A-Za-z0-9:._-]{1,64}$/.test(prefix)) {
    throw new ConfigError(`REDIS_KEY_PREFIX must be 1–64 letters, digits or ":._-", got "${prefix}"`);
  }
  return prefix;
}

function databaseReadUrl(env: Env): string | undefined {
  const url = env.DATABASE_READ_URL || undefined;
  if (url && !env.DATABASE_URL) {
    throw new ConfigError('DATABASE_READ_URL needs DATABASE_URL: the embedded database has no replicas');
  }
  return url;
}

function storageOf(env: Env, dataDir: string): Config['storage'] {
  const bucket = env.S3_BUCKET;
  if (!bucket) return { kind: 'local', root: path.resolve(env.STORAGE_DIR ?? path.join(dataDir, 'media')) };
  return {
    kind: 's3',
    bucket,
    region: env.S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
    endpoint: env.S3_ENDPOINT || undefined,
    forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', Boolean(env.S3_ENDPOINT)),
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
  };
}

function uploadLimits(env: Env, storage: Config['storage']): UploadLimits {
  // S3 multipart parts (except the last) must be at least 5 MiB.
  const minChunkSize = storage.kind === 's3' ? 5 * MiB : bytes(env, 'UPLOAD_MIN_CHUNK_SIZE', 256 * 1024);
  const defaultChunkSize = bytes(env, 'UPLOAD_CHUNK_SIZE', 8 * MiB);
  const maxChunkSize = bytes(env, 'UPLOAD_MAX_CHUNK_SIZE', 64 * MiB);
  if (defaultChunkSize < minChunkSize || defaultChunkSize > maxChunkSize) {
    throw new ConfigError(
      `UPLOAD_CHUNK_SIZE must be between ${minChunkSize} and ${maxChunkSize} bytes (S3 needs ≥ 5 MiB)`,
    );
  }
  return {
    defaultChunkSize,
    minChunkSize,
    maxChunkSize,
    minSize: bytes(env, 'UPLOAD_MIN_SIZE', 1),
    maxSize: bytes(env, 'UPLOAD_MAX_SIZE', 20 * 1024 * MiB),
    sessionTtlSeconds: int(env, 'UPLOAD_SESSION_TTL_SECONDS', 24 * 3600, 1),
    maxDurationSeconds: int(env, 'MAX_VIDEO_DURATION_SECONDS', 6 * 3600, 1),
    maxWidth: int(env, 'MAX_VIDEO_WIDTH', 7680, 1),
    maxHeight: int(env, 'MAX_VIDEO_HEIGHT', 7680, 1),
    uploadTokenTtlSeconds: int(env, 'UPLOAD_TOKEN_TTL_SECONDS', 3600, 1),
    maxActiveSessions: int(env, 'UPLOAD_MAX_ACTIVE_SESSIONS', 20, 1),
    maxReservedBytes: bytes(env, 'UPLOAD_MAX_RESERVED_BYTES', 200 * 1024 * MiB),
    idleTimeoutSeconds: int(env, 'UPLOAD_IDLE_TIMEOUT_SECONDS', 30, 1, 3600),
    maxConcurrentChunksPerIp: int(env, 'UPLOAD_MAX_CONCURRENT_CHUNKS_PER_IP', 32, 1),
  };
}

function publicBaseUrl(raw: string | undefined): string | undefined {
  const value = raw?.trim().replace(/\/+$/, '') || undefined;
  if (value && !/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(value)) {
    throw new ConfigError(`PUBLIC_BASE_URL must be an http(s) URL like https://reel.example, got "${value}"`);
  }
  return value;
}

/** Comma-separated, trimmed, without empty entries. */
function httpEdge(env: Env): HttpConfig {
  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && !/^\S{16,}$/.test(metricsToken)) {
    throw new ConfigError(
      'METRICS_TOKEN must be at least 16 characters without spaces (e.g. `openssl rand -hex 24`)',
    );
  }
  return { trustProxy: trustProxy(env.TRUST_PROXY), allowedHosts: allowedHosts(env), metricsToken };
}

/** proxy-addr's named ranges, accepted by Fastify's trustProxy like addresses. */
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Off (default) or the proxies to believe: `10.0.0.0/8, 127.0.0.1, loopback`. `true` (trust any peer)
 * is refused: any client could then choose its IP, Host and scheme.
 */
function trustProxy(raw: string | undefined): string[] | false {
  const value = raw?.trim().toLowerCase();
  if (!value || ['false', '0', 'no', 'off'].includes(value)) return false;
  const entries = list(value);
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const validBits =
      bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!PROXY_RANGES.includes(entry) && (family === 0 || !validBits || extra !== undefined)) {
      throw new ConfigError(
        `TRUST_PROXY must list proxy addresses or CIDRs (e.g. 10.0.0.0/8, 127.0.0.1, loopback), got "${entry}"`,
      );
    }
  }
  return entries;
}

/** ALLOWED_HOSTS, or the listener's own names: localhost, loopback addresses, the machine, HOST. */
function allowedHosts(env: Env): string[] {
  if (env.ALLOWED_HOSTS?.trim()) {
    return list(env.ALLOWED_HOSTS).map((entry) => {
      const host = parseHostPort(entry);
      if (!host) throw new ConfigError(`ALLOWED_HOSTS must list host[:port] values, got "${entry}"`);
      return host.port === undefined ? host.hostname : `${host.hostname}:${host.port}`;
    });
  }
  const names = ['localhost', '127.0.0.1', '[::1]', os.hostname().toLowerCase()];
  const listen = env.HOST?.trim().toLowerCase();
  if (listen && listen !== '0.0.0.0' && listen !== '::') {
    names.push(isIP(listen) === 6 ? `[${listen}]` : listen);
  }
  return [...new Set(names)];
}

function delivery(env: Env, storage: Config['storage']): DeliveryConfig {
  const mode = env.MEDIA_DELIVERY || 'stream';
  if (mode !== 'stream' && mode !== 'redirect') {
    throw new ConfigError(`MEDIA_DELIVERY must be stream or redirect, got "${mode}"`);
  }
  const publicMediaBaseUrl = env.PUBLIC_MEDIA_BASE_URL?.trim().replace(/\/+$/, '') || undefined;
  if (publicMediaBaseUrl && !/^https?:\/\/[^\s/]+/.test(publicMediaBaseUrl)) {
    throw new ConfigError(`PUBLIC_MEDIA_BASE_URL must be an http(s) URL, got "${publicMediaBaseUrl}"`);
  }
  if (mode === 'redirect' && storage.kind === 'local' && !publicMediaBaseUrl) {
    throw new ConfigError(
      'MEDIA_DELIVERY=redirect needs S3 storage (presigned URLs) or PUBLIC_MEDIA_BASE_URL (a CDN)',
    );
  }
  const signingSecret = env.SIGNING_SECRET || undefined;
  if (signingSecret !== undefined && signingSecret.length < 32) {
    throw new ConfigError('SIGNING_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`)');
  }
  return {
    corsOrigins: corsOrigins(env.CORS_ORIGINS),
    mode,
    publicMediaBaseUrl,
    signedUrlTtlSeconds: int(env, 'SIGNED_URL_TTL_SECONDS', 6 * 3600, 60, 7 * 24 * 3600),
    signingSecret,
  };
}

/** `*`, or a comma-separated list of origins: `https://a.example, http://localhost:5173`. */
function corsOrigins(raw: string | undefined): '*' | string[] {
  const value = raw?.trim();
  if (!value || value === '*') return '*';
  const origins = list(value)
    .map((origin) => origin.replace(/\/+$/, ''))
    .filter(Boolean);
  for (const origin of origins) {
    if (!/^https?:\/\/[^\s/]+$/.test(origin)) {
      throw new ConfigError(`CORS_ORIGINS must list origins like https://example.com, got "${origin}"`);
    }
  }
  return origins;
}

/** Segments must hold whole 2-second keyframe intervals so every rung cuts at the same instants. */
function segmentSeconds(env: Env): number {
  const value = int(env, 'HLS_SEGMENT_SECONDS', 6, 2, 30);
  if (value % 2 !== 0) throw new ConfigError('HLS_SEGMENT_SECONDS must be even (keyframes every 2 s)');
  return value;
}

/** What the `reel upload` / `reel status` client needs: where the server is, a key, where resume state lives. */
export interface ClientConfig {
  /** REEL_URL, without a trailing slash; default http://localhost:8080. */
  baseUrl: string;
  /** True when REEL_URL was not set (a saved credentials file may then name the server). */
  baseUrlIsDefault: boolean;
  /** REEL_API_KEY. */
  apiKey: string | undefined;
  /** REEL_STATE_FILE; default $XDG_STATE_HOME/reel/uploads.json (~/.local/state/reel/uploads.json). */
  statePath: string;
  /** `<DATA_DIR>/cli-credentials.json`, written by `reel keys create`. */
  credentialsPath: string;
}

export const DEFAULT_CLIENT_BASE_URL = 'http://localhost:8080';

export function loadClientConfig(env: Env = process.env): ClientConfig {
  const stateHome = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  const rawUrl = env.REEL_URL?.trim();
  return {
    baseUrl: (rawUrl || DEFAULT_CLIENT_BASE_URL).replace(/\/+$/, ''),
    baseUrlIsDefault: !rawUrl,
    apiKey: env.REEL_API_KEY?.trim() || undefined,
    statePath: path.resolve(env.REEL_STATE_FILE || path.join(stateHome, 'reel', 'uploads.json')),
    credentialsPath: cliCredentialsPath(path.resolve(env.DATA_DIR ?? './data')),
  };
}

/** Where `reel keys create` saves the new key for the local CLI. */
export function cliCredentialsPath(dataDir: string): string {
  return path.join(dataDir, 'cli-credentials.json');
}
