import { videoPrefix } from '../media/storage-layout.ts';
import { type DomainModule, jobWorker } from '../platform/module.ts';
import { defineJob } from '../platform/queue/job-queue.ts';
import type { BlobStore } from '../platform/storage/blob-store.ts';

export interface CleanupVideo {
  videoId: string;
  sourceKey: string;
}

/**
 * Removes a deleted video's bytes: every encode and the source. Enqueued in the transaction that marks
 * the video deleted, so a storage failure (or a crash) after the answer never leaves files behind.
 */
export const cleanupVideoJob = defineJob<CleanupVideo>('video.cleanup');

/** Idempotent: deleting what is already gone succeeds, so a retry or a second run is harmless. */
export async function removeVideoFiles(store: BlobStore, video: CleanupVideo): Promise<void> {
  await store.deletePrefix(videoPrefix(video.videoId));
  await store.delete(video.sourceKey);
}

/** The cleanup job's part of a process: API nodes send it, workers (`reel serve`, `reel worker`) run it. */
export function videoCleanup(store: BlobStore): DomainModule {
  return {
    jobs: [cleanupVideoJob],
    workers: [jobWorker(cleanupVideoJob, 2, (data) => removeVideoFiles(store, data))],
  };
}
