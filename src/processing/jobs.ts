import { type Tx, transactionExecutor } from '../platform/db/database.ts';
import { defineJob, type JobQueue } from '../platform/queue/job-queue.ts';

/**
 * A processing job's time limit scales with the video's duration (so no job stays stuck, and a long
 * video is not killed early): 10 minutes plus 4× realtime, at 2-core veryfast speeds ≈ 1× realtime.
 */
export function processingTimeoutSeconds(durationSeconds: number): number {
  return Math.ceil(600 + 4 * Math.max(0, durationSeconds));
}

export interface ProcessVideo {
  videoId: string;
  /** The source's duration: sets the job's time limit. */
  durationSeconds: number;
}

/** Transcode a video to its HLS ladder, posters, storyboard and MP4 (VideoProcessor). */
export const processVideoJob = defineJob<ProcessVideo>('video.process', ({ durationSeconds }) => ({
  expireInSeconds: processingTimeoutSeconds(durationSeconds),
}));

export const PROCESSING_JOBS = [processVideoJob];

/**
 * The one way a video gets (re)processed: the job commits with the caller's transaction, so it exists
 * exactly when the row that asks for it does.
 */
export type RequestProcessing = (tx: Tx, video: { id: string; durationSeconds: number }) => Promise<void>;

export function processingRequests(queue: JobQueue): RequestProcessing {
  return async (tx, video) => {
    await queue.send(
      processVideoJob,
      { videoId: video.id, durationSeconds: video.durationSeconds },
      { tx: transactionExecutor(tx) },
    );
  };
}

/**
 * The ChangeBus topic of videos (the id is the video's): announced after a change a reader of the
 * catalog could see commits — a video ready, failed, edited, reprocessed or deleted.
 */
export const VIDEO_CHANGES = 'video';
