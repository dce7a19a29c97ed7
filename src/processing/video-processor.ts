import fs from 'node:fs/promises';
import path from 'node:path';
import type { ProcessingConfig } from '../config.ts';
import { AppError, errors } from '../errors.ts';
import type { MediaTools } from '../media/ffmpeg-binary.ts';
import { classifyFfmpegFailure, FfmpegError } from '../media/ffmpeg-runner.ts';
import { parseProbe } from '../media/probe.ts';
import { encodePrefix } from '../media/storage-layout.ts';
import type { ChangeBus } from '../platform/changes/change-bus.ts';
import { newId } from '../platform/ids.ts';
import type { Logger } from '../platform/logger.ts';
import type { JobContext } from '../platform/queue/job-queue.ts';
import { BlobNotFoundError, type BlobStore } from '../platform/storage/blob-store.ts';
import { encodeVideo } from './encode-pipeline.ts';
import type { EncodeRepository, VideoToProcess } from './encode-repository.ts';
import { type ProcessVideo, VIDEO_CHANGES } from './jobs.ts';

export interface VideoProcessorDeps {
  encodes: EncodeRepository;
  store: BlobStore;
  tools: MediaTools;
  config: ProcessingConfig;
  retryLimit: number;
  /** Told when a video becomes ready or fails, so every node's caches drop it. */
  changes: ChangeBus;
  log: Logger;
}

/** One attempt: the video, its encode id and the attempt's work directory. */
interface Attempt {
  video: VideoToProcess;
  encodeId: string;
  context: JobContext;
}

/**
 * The `video.process` job: claims a new encode, runs the pipeline (encode-pipeline.ts), publishes the
 * result or records why it failed. A job runs to `ready` exactly once; a dead attempt's partial output
 * is discarded, never mixed in.
 */
export class VideoProcessor {
  readonly #deps: VideoProcessorDeps;

  constructor(deps: VideoProcessorDeps) {
    this.#deps = deps;
  }

  async handle(data: Pick<ProcessVideo, 'videoId'>, context: JobContext): Promise<void> {
    const { encodes, store, log } = this.#deps;
    const video = await encodes.find(data.videoId);
    if (video?.status !== 'processing') return; // deleted, or already done

    const encodeId = newId();
    const claim = await encodes.claimEncode(video.id, encodeId);
    if (!claim) return;
    if (claim.abandoned) await store.deletePrefix(encodePrefix(video.id, claim.abandoned));
    // One directory per attempt; removing the video's older ones also stops an orphaned ffmpeg of a
    // killed process, which fails as soon as its output directory is gone.
    const videoWorkDir = path.join(this.#deps.config.workDir, video.id);
    await fs.rm(videoWorkDir, { recursive: true, force: true });
    const workDir = path.join(videoWorkDir, encodeId);
    await fs.mkdir(workDir, { recursive: true });
    log.info({ videoId: video.id, encodeId, attempt: context.retryCount }, 'processing video');
    const attempt = { video, encodeId, context };
    try {
      await this.#run(attempt, workDir);
    } catch (error) {
      await this.#failed(attempt, error);
    } finally {
      await fs.rm(videoWorkDir, { recursive: true, force: true });
    }
  }

  async #run({ video, encodeId, context }: Attempt, workDir: string): Promise<void> {
    const { encodes, store, log } = this.#deps;
    const job = {
      videoId: video.id,
      encodeId,
      probe: parseProbe(video.probe),
      sourceKey: video.sourceKey,
      workDir,
      signal: context.signal,
    };
    const { outputs, renditions } = await encodeVideo(this.#deps, job);
    const finished = await encodes.finishEncode(video.id, encodeId, outputs, renditions);
    if (!finished) {
      await store.deletePrefix(encodePrefix(video.id, encodeId)); // deleted or superseded meanwhile
      return;
    }
    await this.#deps.changes.publish(VIDEO_CHANGES, video.id);
    if (finished.replaced) await store.deletePrefix(encodePrefix(video.id, finished.replaced));
    log.info({ videoId: video.id, encodeId }, 'video ready');
  }

  /** Records a failure no retry can fix (or the last attempt's); rethrows a transient one for a retry. */
  async #failed({ video, encodeId, context }: Attempt, error: unknown): Promise<void> {
    const { encodes, store, log } = this.#deps;
    const prefix = encodePrefix(video.id, encodeId);
    const status = await encodes.status(video.id).catch(() => null);
    if (status === undefined || status === 'deleted') {
      // Deleted meanwhile, source included: not a failure of the media, and nothing to retry.
      log.info({ videoId: video.id, encodeId, err: error }, 'video deleted while processing: job stopped');
      await store.deletePrefix(prefix).catch(() => {});
      return;
    }
    // A missing source is no media error: ffmpeg reports it as "No such file or directory" (local)
    // or an HTTP 404 (presigned URL), so ask the store. Retried (storage may lag), then failed.
    const sourceMissing = await this.#sourceMissing(video.sourceKey, error);
    const failure = sourceMissing ? undefined : permanentFailure(error);
    await store.deletePrefix(prefix).catch(() => {});
    if (!failure && context.retryCount < this.#deps.retryLimit) throw error; // transient: pg-boss retries
    const reason = failure ?? {
      error: errors.processingFailed(
        `Processing failed after ${context.retryCount + 1} attempts: ${
          sourceMissing ? 'source missing' : (error as Error).message
        }`,
      ),
      log: error instanceof FfmpegError ? error.stderrTail : null,
    };
    log.warn(
      { videoId: video.id, code: reason.error.code, sourceKey: video.sourceKey, err: error },
      'video failed',
    );
    await encodes.markFailed(
      video.id,
      encodeId,
      { code: reason.error.code, message: reason.error.message },
      reason.log,
    );
    await this.#deps.changes.publish(VIDEO_CHANGES, video.id);
  }

  /** Whether the source object is gone (a store error about it, or the store no longer has it). */
  async #sourceMissing(sourceKey: string, error: unknown): Promise<boolean> {
    if (error instanceof BlobNotFoundError && error.key === sourceKey) return true;
    const stat = await this.#deps.store.stat(sourceKey).catch(() => null); // unknown: not "missing"
    return stat === undefined;
  }
}

/** Failures no retry can fix, with the encoder log kept for operators. */
function permanentFailure(error: unknown): { error: AppError; log: string | null } | undefined {
  if (error instanceof AppError && error.permanent) return { error, log: null };
  if (error instanceof FfmpegError && classifyFfmpegFailure(error) === 'permanent') {
    return {
      error: errors.mediaUnsupported(
        'The video could not be decoded or encoded; the processing log has the details',
      ),
      log: error.stderrTail,
    };
  }
  return undefined;
}
