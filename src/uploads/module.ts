import type { Authenticator } from '../auth/authenticator.ts';
import type { UploadTokens } from '../auth/upload-tokens.ts';
import type { VideoRepository } from '../catalog/video-repository.ts';
import type { Config } from '../config.ts';
import type { ProbeResult } from '../media/probe-result.ts';
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { DomainModule } from '../platform/module.ts';
import type { BlobStore } from '../platform/storage/blob-store.ts';
import type { RequestProcessing } from '../processing/jobs.ts';
import { UploadRepository } from './upload-repository.ts';
import { uploadRoutes } from './upload-routes.ts';
import { UploadService } from './upload-service.ts';

export interface UploadsDeps {
  db: Db;
  store: BlobStore;
  clock: Clock;
  auth: Authenticator;
  tokens: UploadTokens;
  /** Where completed uploads become videos. */
  videos: VideoRepository;
  requestProcessing: RequestProcessing;
  probe: (input: string) => Promise<ProbeResult>;
  config: Pick<Config, 'uploads' | 'rateLimit'>;
}

export interface Uploads extends DomainModule {
  service: UploadService;
}

/** How often expired sessions are swept and abandoned completions resumed. */
const SWEEP_INTERVAL_MS = 15_000;

/** Resumable uploads: sessions, chunks, completion into a video. */
export function createUploads(deps: UploadsDeps): Uploads {
  const { config } = deps;
  const service = new UploadService({
    ...deps,
    uploads: new UploadRepository(deps.db),
    limits: config.uploads,
  });
  return {
    service,
    routes: (app) =>
      uploadRoutes(app, {
        service,
        auth: deps.auth,
        rateLimit: config.rateLimit,
        maxConcurrentChunksPerIp: config.uploads.maxConcurrentChunksPerIp,
      }),
    // Expired sessions are freed; completions a dead process abandoned are finished (at start too).
    duties: [
      {
        name: 'upload sweep',
        everyMs: SWEEP_INTERVAL_MS,
        run: () => Promise.all([service.sweepExpired(), service.recoverStaleCompletions()]),
      },
    ],
  };
}
