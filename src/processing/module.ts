import type { ProcessingConfig } from '../config.ts';
import type { MediaTools } from '../media/ffmpeg-binary.ts';
import type { ChangeBus } from '../platform/changes/change-bus.ts';
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import { type DomainModule, jobWorker } from '../platform/module.ts';
import type { JobQueue } from '../platform/queue/job-queue.ts';
import type { BlobStore } from '../platform/storage/blob-store.ts';
import { EncodeRepository } from './encode-repository.ts';
import { PROCESSING_JOBS, processingRequests, processVideoJob, type RequestProcessing } from './jobs.ts';
import { VideoProcessor } from './video-processor.ts';

export interface ProcessingDeps {
  db: Db;
  store: BlobStore;
  queue: JobQueue;
  tools: MediaTools;
  config: ProcessingConfig;
  /** Attempts after the first (JOB_RETRY_LIMIT): the last one records the failure. */
  retryLimit: number;
  /** Videos transcoded at once by this process (TRANSCODE_CONCURRENCY). */
  concurrency: number;
  changes: ChangeBus;
  log: Logger;
}

export interface Processing extends DomainModule {
  processor: VideoProcessor;
  /** The encode state of videos (pending/served encode, progress, outputs). */
  encodes: EncodeRepository;
  /** Enqueues (re)processing in the caller's transaction: uploads and reprocess both go through it. */
  requestProcessing: RequestProcessing;
}

/** Transcoding: the `video.process` job and the encode state of videos. No HTTP routes of its own. */
export function createProcessing(deps: ProcessingDeps): Processing {
  const encodes = new EncodeRepository(deps.db);
  const processor = new VideoProcessor({
    encodes,
    store: deps.store,
    tools: deps.tools,
    config: deps.config,
    retryLimit: deps.retryLimit,
    changes: deps.changes,
    log: deps.log,
  });
  return {
    processor,
    encodes,
    requestProcessing: processingRequests(deps.queue),
    jobs: PROCESSING_JOBS,
    workers: [
      jobWorker(processVideoJob, deps.concurrency, (data, context) => processor.handle(data, context)),
    ],
  };
}
