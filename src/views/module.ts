import type { preHandlerHookHandler } from 'fastify';
import type { Redis } from 'ioredis';
import type { Viewer } from '../auth/policy.ts';
import type { ViewsConfig } from '../config.ts';
import type { Cache } from '../platform/cache/cache.ts';
import type { ChangeBus } from '../platform/changes/change-bus.ts';
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import type { DomainModule } from '../platform/module.ts';
import type { MediaLinks } from '../playback/media-links.ts';
import { VIDEO_CHANGES } from '../processing/jobs.ts';
import { beaconRoutes } from './beacon-routes.ts';
import { BeaconVideos } from './beacon-videos.ts';
import { finalizeIdleSessions, pruneViewState, refreshRecentViews } from './maintenance.ts';
import { statsRoutes } from './stats-routes.ts';
import { StatsService } from './stats-service.ts';
import { DatabaseUniqueViewers, RedisUniqueViewers, type UniqueViewers } from './unique-viewers.ts';
import { registerViewMetrics } from './view-metrics.ts';
import { ViewRecorder } from './view-recorder.ts';
import { ViewerHasher } from './viewer-salt.ts';

export interface ViewsDeps {
  db: Db;
  cache: Cache;
  changes: ChangeBus;
  clock: Clock;
  log: Logger;
  /** With Redis, unique viewers are HyperLogLogs under `redisPrefix`; without, exact rows in the database. */
  redis: Redis | undefined;
  redisPrefix: string;
  links: MediaLinks;
  /** Who may read a video's statistics: whoever may manage it (the catalog decides). */
  manageable(id: string, viewer: Viewer): Promise<unknown>;
  requireKey: preHandlerHookHandler;
  config: ViewsConfig;
}

export interface Views extends DomainModule {
  recorder: ViewRecorder;
  uniques: UniqueViewers;
  stats: StatsService;
}

/** Views and playback analytics: beacons in, counts and quality of experience out. */
export function createViews(deps: ViewsDeps): Views {
  const uniques = deps.redis
    ? new RedisUniqueViewers(deps.redis, deps.redisPrefix)
    : new DatabaseUniqueViewers(deps.db);
  const recorder = new ViewRecorder({
    db: deps.db,
    uniques,
    uniquesInTransaction: !deps.redis,
    rules: deps.config.rules,
    clock: deps.clock,
    log: deps.log,
    // A count moved: every node drops the video's cached entry and pages (shown within a flush).
    onViewsCounted: async (ids) => {
      await deps.changes.publish(VIDEO_CHANGES, ids);
    },
    flushIntervalMs: deps.config.flushSeconds * 1000,
    maxPending: 200_000,
  });
  recorder.start();
  const stats = new StatsService(deps.db, uniques);
  return {
    recorder,
    uniques,
    stats,
    routes: async (app) => {
      await statsRoutes(app, {
        stats,
        manageable: deps.manageable,
        requireKey: deps.requireKey,
        clock: deps.clock,
      });
      await beaconRoutes(app, {
        recorder,
        videos: new BeaconVideos(deps.db, deps.cache.namespace('views')),
        hasher: new ViewerHasher(deps.db),
        clock: deps.clock,
        acceptsToken: (videoId, token) => deps.links.acceptsBeaconToken(videoId, token),
        beaconsPerMinutePerIp: deps.config.beaconsPerMinutePerIp,
        beaconsPerMinutePerViewer: deps.config.beaconsPerMinutePerViewer,
        flushSeconds: deps.config.flushSeconds,
      });
    },
    duties: [
      {
        name: 'views.maintenance',
        everyMs: 60_000,
        run: async () => {
          await finalizeIdleSessions(deps.db);
          await refreshRecentViews(deps.db);
          await pruneViewState(deps.db, deps.clock.nowMs(), deps.config.rules.dedupMinutes);
        },
      },
    ],
    metrics: (registry) => registerViewMetrics(registry, () => recorder.stats),
    close: () => recorder.stop(),
  };
}
