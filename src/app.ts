import path from 'node:path';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { ApiKeys } from './auth/api-keys.ts';
import { authRoutes } from './auth/auth-routes.ts';
import { UploadTokens } from './auth/upload-tokens.ts';
import { VideoChangeFeed } from './catalog/video-change-feed.ts';
import { VideoRepository } from './catalog/video-repository.ts';
import { videoRoutes } from './catalog/video-routes.ts';
import { VideoService } from './catalog/video-service.ts';
import type { Config } from './config.ts';
import { createAuthenticator } from './http/auth.ts';
import { healthRoutes } from './http/health-routes.ts';
import { metricsRoute } from './http/metrics-route.ts';
import { createServer } from './http/server.ts';
import { resolveMediaTools } from './media/ffmpeg-binary.ts';
import { probeMedia } from './media/probe.ts';
import { type Database, openPGlite, openPostgres } from './platform/db/database.ts';
import { migrate } from './platform/db/migrations.ts';
import { createMetrics } from './platform/metrics.ts';
import { type JobQueue, PgBossJobQueue } from './platform/queue/job-queue.ts';
import type { BlobStore } from './platform/storage/blob-store.ts';
import { createBlobStore } from './platform/storage/index.ts';
import { MediaLinks } from './playback/media-links.ts';
import { mediaRoutes } from './playback/media-routes.ts';
import { loadSigningSecret } from './playback/signing-secret.ts';
import { MediaUrlSigner } from './playback/url-signer.ts';
import { VideoProcessor } from './processing/video-processor.ts';
import { UploadRepository } from './uploads/upload-repository.ts';
import { uploadRoutes } from './uploads/upload-routes.ts';
import { UploadService } from './uploads/upload-service.ts';

export interface App {
  config: Config;
  database: Database;
  store: BlobStore;
  queue: JobQueue;
  apiKeys: ApiKeys;
  uploadTokens: UploadTokens;
  uploads: UploadService;
  videos: VideoRepository;
  videoService: VideoService;
  processor: VideoProcessor;
  http: FastifyInstance;
  /** Starts the background duties: transcoding workers and the upload sweeper. */
  startWorkers(): Promise<void>;
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: FastifyServerOptions['logger'];
  /** An already-open database (tests share one); otherwise opened from config. */
  database?: Database;
}

/** Opens the database the config names: PostgreSQL when DATABASE_URL is set, else embedded PGlite. */
export function openDatabase(config: Config): Promise<Database> {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openPGlite(path.join(config.dataDir, 'db'));
}

/** ioredis is loaded only when Redis is configured. */
async function connectRedis(url: string) {
  const { Redis } = await import('ioredis');
  return new Redis(url, { connectTimeout: 1000, maxRetriesPerRequest: 1 });
}

/** The composition root: builds every adapter and service from config. No globals. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const database = options.database ?? (await openDatabase(config));
  const closers: Array<() => Promise<unknown>> = [];
  if (!options.database) closers.push(() => database.close());
  try {
    await migrate(database.db);
    const store = await createBlobStore(config.storage);
    const queue = new PgBossJobQueue(database, config.jobs);
    await queue.start();
    closers.unshift(() => queue.stop({ timeoutMs: 10_000 }));
    const redis = config.redisUrl ? await connectRedis(config.redisUrl) : undefined;
    if (redis) closers.unshift(() => redis.quit());

    const tools = resolveMediaTools({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
    const apiKeys = new ApiKeys(database.db);
    const uploadTokens = new UploadTokens(database.db, config.uploads.uploadTokenTtlSeconds);
    const videos = new VideoRepository(database.db);
    const uploads = new UploadService({
      db: database.db,
      uploads: new UploadRepository(database.db),
      videos,
      tokens: uploadTokens,
      store,
      queue,
      limits: config.uploads,
      probe: (input) => probeMedia(tools.ffprobe, input),
    });

    const videoService = new VideoService({ db: database.db, videos, store, queue });
    const processor = new VideoProcessor({
      videos,
      store,
      tools,
      config: config.processing,
      retryLimit: config.jobs.retryLimit,
      log: {
        info: (obj, msg) => http.log.info(obj, msg),
        warn: (obj, msg) => http.log.warn(obj, msg),
      },
    });

    // Signed media URLs: one secret shared by every node (configured, or generated once in the database).
    const signer = new MediaUrlSigner(await loadSigningSecret(database.db, config.delivery.signingSecret));
    const links = new MediaLinks(signer, config.delivery.signedUrlTtlSeconds);

    const auth = createAuthenticator(apiKeys, uploadTokens);
    const http = await createServer({
      rateLimitKey: auth.rateLimitKey,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      logger: options.logger ?? false,
      redis,
      corsOrigins: config.delivery.corsOrigins,
      trustProxy: config.http.trustProxy,
    });
    const metrics = createMetrics();
    // One poll of the database per process feeds every event stream, whichever node runs the worker.
    const feed = new VideoChangeFeed({
      load: (ids) => videos.findSummaries(ids),
      onError: (error) => http.log.warn({ err: error }, 'video change feed poll failed'),
    });
    closers.unshift(async () => feed.close()); // after the server closed (and ended the streams)
    await http.register(healthRoutes, { db: database.db, store });
    await http.register(authRoutes, {
      tokens: uploadTokens,
      auth,
      tokensPerMinute: config.rateLimit.uploadTokensPerMinute,
    });
    await http.register(uploadRoutes, {
      service: uploads,
      auth,
      rateLimit: config.rateLimit,
      maxConcurrentChunksPerIp: config.uploads.maxConcurrentChunksPerIp,
    });
    await http.register(videoRoutes, {
      service: videoService,
      auth,
      publicBaseUrl: config.publicBaseUrl,
      allowedHosts: config.http.allowedHosts,
      links,
      events: { feed, maxConnectionsPerIp: config.events.maxConnectionsPerIp },
    });
    await http.register(mediaRoutes, { videos, store, signer, delivery: config.delivery });
    await http.register(metricsRoute, { metrics, token: config.http.metricsToken });
    closers.unshift(() => http.close());

    let sweeper: NodeJS.Timeout | undefined;
    return {
      config,
      database,
      store,
      queue,
      apiKeys,
      uploadTokens,
      uploads,
      videos,
      videoService,
      processor,
      http,
      async startWorkers() {
        await queue.work(
          'video.process',
          { concurrency: config.workers.transcodeConcurrency },
          (data, context) => processor.handle(data, context),
        );
        // Expired sessions are freed; completions a dead process abandoned are finished (at start too).
        const sweep = () =>
          Promise.all([uploads.sweepExpired(), uploads.recoverStaleCompletions()]).catch((error) =>
            http.log.warn({ err: error }, 'upload sweep failed'),
          );
        sweeper = setInterval(sweep, 15_000);
        sweeper.unref();
        void sweep();
      },
      async close() {
        clearInterval(sweeper);
        for (const close of closers) await close().catch(() => {});
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => {});
    throw error;
  }
}
