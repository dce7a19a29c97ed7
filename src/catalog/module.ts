import type { Authenticator } from '../auth/authenticator.ts';
import { publicBaseUrl } from '../http/public-origin.ts';
import type { Cache } from '../platform/cache/cache.ts';
import type { ChangeBus } from '../platform/changes/change-bus.ts';
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import type { DomainModule } from '../platform/module.ts';
import type { JobQueue } from '../platform/queue/job-queue.ts';
import type { BlobStore } from '../platform/storage/blob-store.ts';
import type { MediaLinks } from '../playback/media-links.ts';
import type { RequestProcessing } from '../processing/jobs.ts';
import { CatalogCache } from './catalog-cache.ts';
import { CatalogReader } from './catalog-reader.ts';
import { VideoChangeFeed } from './video-change-feed.ts';
import { videoCleanup } from './video-cleanup.ts';
import { VideoRepository } from './video-repository.ts';
import { videoRoutes } from './video-routes.ts';
import { VideoService } from './video-service.ts';

export interface CatalogDeps {
  db: Db;
  /** The read replica (DATABASE_READ_URL) or the primary. */
  readDb: Db;
  cache: Cache;
  changes: ChangeBus;
  /** CACHE_TTL_SECONDS (0: no cache). */
  cacheTtlSeconds: number;
  store: BlobStore;
  queue: JobQueue;
  clock: Clock;
  log: Logger;
  auth: Authenticator;
  links: MediaLinks;
  requestProcessing: RequestProcessing;
  http: { publicBaseUrl: string | undefined; allowedHosts: readonly string[] };
  /** SSE_MAX_CONNECTIONS_PER_IP. */
  events: { maxConnectionsPerIp: number };
}

export interface Catalog extends DomainModule {
  videos: VideoRepository;
  service: VideoService;
  reader: CatalogReader;
}

/** Videos: browsing and searching them, reading one, following its progress, editing, reprocessing and deleting it. */
export function createCatalog(deps: CatalogDeps): Catalog {
  const videos = new VideoRepository(deps.db);
  const cache = new CatalogCache({
    cache: deps.cache.namespace('catalog'),
    changes: deps.changes,
    ttlSeconds: deps.cacheTtlSeconds,
  });
  const service = new VideoService({ ...deps, videos, cache });
  const reader = new CatalogReader({ db: deps.db, readDb: deps.readDb, cache });
  // One poll of the database per process feeds every event stream, whichever node runs the worker.
  const feed = new VideoChangeFeed({
    load: (ids) => videos.findSummaries(ids),
    onError: (error) => deps.log.warn({ err: error }, 'video change feed poll failed'),
  });
  return {
    ...videoCleanup(deps.store),
    videos,
    service,
    reader,
    routes: (app) =>
      videoRoutes(app, {
        service,
        reader,
        auth: deps.auth,
        links: deps.links,
        baseUrlOf: (request) =>
          publicBaseUrl(
            { configured: deps.http.publicBaseUrl, protocol: request.protocol, host: request.host },
            deps.http.allowedHosts,
          ),
        events: { feed, maxConnectionsPerIp: deps.events.maxConnectionsPerIp },
      }),
    close: async () => feed.close(),
  };
}
