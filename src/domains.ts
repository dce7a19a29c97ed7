import { type Auth, createAuth } from './auth/module.ts';
import { type Catalog, createCatalog } from './catalog/module.ts';
import type { VideoRepository } from './catalog/video-repository.ts';
import type { Config } from './config.ts';
import { type MediaTools, resolveMediaTools } from './media/ffmpeg-binary.ts';
import { probeMedia } from './media/probe.ts';
import type { Platform } from './platform/platform.ts';
import { createPlayback, type Playback } from './playback/module.ts';
import { createProcessing, type Processing } from './processing/module.ts';
import { createUploads, type Uploads } from './uploads/module.ts';
import { createViews, type Views } from './views/module.ts';

/** Every domain, built in dependency order: each one only uses those above it. */
export interface Domains {
  auth: Auth;
  processing: Processing;
  playback: Playback;
  catalog: Catalog;
  views: Views;
  uploads: Uploads;
}

/** The domains of an API process (`reel serve`): all of them. */
export async function createDomains(config: Config, platform: Platform): Promise<Domains> {
  const { database, store, clock, log } = platform;
  const db = database.db;
  const tools = mediaTools(config);
  const auth = authFor(config, platform);
  const processing = processingFor(config, platform, tools);
  const playback = await createPlayback({
    db,
    store,
    clock,
    cache: platform.cache,
    delivery: config.delivery,
  });
  const catalog = createCatalog({
    db,
    readDb: platform.readDb,
    cache: platform.cache,
    changes: platform.changes,
    cacheTtlSeconds: config.cacheTtlSeconds,
    store,
    queue: platform.queue,
    clock,
    log,
    auth: auth.authenticator,
    links: playback.links,
    requestProcessing: processing.requestProcessing,
    http: { publicBaseUrl: config.publicBaseUrl, allowedHosts: config.http.allowedHosts },
    events: config.events,
  });
  const views = createViews({
    db,
    cache: platform.cache,
    changes: platform.changes,
    clock,
    log,
    redis: platform.redis,
    redisPrefix: config.redisKeyPrefix,
    links: playback.links,
    manageable: (id, viewer) => catalog.service.manageable(id, viewer),
    requireKey: auth.authenticator.requireKey,
    config: config.views,
  });
  const uploads = uploadsFor(config, platform, { auth, processing, videos: catalog.videos, tools });
  return { auth, processing, playback, catalog, views, uploads };
}

export function mediaTools(config: Config): MediaTools {
  return resolveMediaTools({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
}

export function authFor(config: Config, platform: Platform): Auth {
  return createAuth({
    db: platform.database.db,
    clock: platform.clock,
    uploadTokenTtlSeconds: config.uploads.uploadTokenTtlSeconds,
    tokensPerMinute: config.rateLimit.uploadTokensPerMinute,
  });
}

export function processingFor(config: Config, platform: Platform, tools: MediaTools): Processing {
  return createProcessing({
    ...platform,
    db: platform.database.db,
    tools,
    config: config.processing,
    retryLimit: config.jobs.retryLimit,
    concurrency: config.workers.transcodeConcurrency,
  });
}

export function uploadsFor(
  config: Config,
  platform: Platform,
  lower: { auth: Auth; processing: Processing; videos: VideoRepository; tools: MediaTools },
): Uploads {
  return createUploads({
    db: platform.database.db,
    store: platform.store,
    clock: platform.clock,
    auth: lower.auth.authenticator,
    tokens: lower.auth.uploadTokens,
    videos: lower.videos,
    requestProcessing: lower.processing.requestProcessing,
    probe: (input) => probeMedia(lower.tools.ffprobe, input),
    config,
  });
}
