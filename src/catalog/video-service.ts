import { canManageVideo, canReadVideo, type Viewer } from '../auth/policy.ts';
import { errors } from '../errors.ts';
import type { Db } from '../platform/db/database.ts';
import { transactionExecutor } from '../platform/db/database.ts';
import type { JobQueue } from '../platform/queue/job-queue.ts';
import type { BlobStore } from '../platform/storage/blob-store.ts';
import { processingJobOptions } from '../processing/job-options.ts';
import type { VideoRepository, VideoSummary } from './video-repository.ts';

/** Video lifecycle operations beyond upload: re-transcode and delete. */
export class VideoService {
  readonly #db: Db;
  readonly #videos: VideoRepository;
  readonly #store: BlobStore;
  readonly #queue: JobQueue;

  constructor(deps: { db: Db; videos: VideoRepository; store: BlobStore; queue: JobQueue }) {
    this.#db = deps.db;
    this.#videos = deps.videos;
    this.#store = deps.store;
    this.#queue = deps.queue;
  }

  /**
   * A video this viewer may read (see auth/policy.ts). One it may not read answers 404 exactly like an
   * unknown id, deleted or not: its existence is not revealed. A deleted one it may read answers 410.
   */
  async get(id: string, viewer: Viewer): Promise<VideoSummary> {
    const row = await this.#videos.findSummary(id);
    if (!row || !canReadVideo(row, viewer)) throw errors.videoNotFound(`No video ${id}`);
    if (row.status === 'deleted') throw errors.videoDeleted(`Video ${id} was deleted`);
    return row;
  }

  /** A video this viewer may change: others' public videos are read-only (403), the rest hidden (404). */
  async #manageable(id: string, viewer: Viewer): Promise<VideoSummary> {
    const row = await this.get(id, viewer);
    if (!canManageVideo(row, viewer)) {
      if (row.visibility === 'public') throw errors.forbidden('This video belongs to another API key');
      throw errors.videoNotFound(`No video ${id}`);
    }
    return row;
  }

  /** Makes a new encode; the current one keeps being served until the new one is ready. */
  async reprocess(id: string, viewer: Viewer): Promise<VideoSummary> {
    const row = await this.#manageable(id, viewer);
    if (row.status === 'processing') throw errors.videoBusy('The video is already being processed');
    return this.#db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable('videos')
        .set({
          status: 'processing',
          progress_percent: 0,
          eta_seconds: null,
          error: null,
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .where('status', 'in', ['ready', 'failed'])
        .returningAll()
        .executeTakeFirst();
      if (!updated) throw errors.videoBusy('The video is already being processed');
      await this.#queue.send(
        'video.process',
        { videoId: id },
        {
          tx: transactionExecutor(tx),
          ...processingJobOptions(row.duration_seconds),
        },
      );
      return updated;
    });
  }

  /** Removes the source, every encode and every thumbnail; the id answers 410 from then on. */
  async delete(id: string, viewer: Viewer): Promise<void> {
    await this.#manageable(id, viewer);
    const row = await this.#videos.markDeleted(id);
    if (!row) throw errors.videoDeleted(`Video ${id} was deleted`);
    await this.#store.deletePrefix(`videos/${id}/`);
    await this.#store.delete(row.source_key);
  }
}
