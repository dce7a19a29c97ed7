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
   * A video that exists and is not deleted. Without `privateAllowed`, a private video answers 404 like
   * an unknown id, deleted or not: its existence is not revealed.
   */
  async get(id: string, options: { privateAllowed?: boolean } = {}): Promise<VideoSummary> {
    const row = await this.#videos.findSummary(id);
    if (!row || (row.visibility === 'private' && options.privateAllowed === false)) {
      throw errors.videoNotFound(`No video ${id}`);
    }
    if (row.status === 'deleted') throw errors.videoDeleted(`Video ${id} was deleted`);
    return row;
  }

  /** Makes a new encode; the current one keeps being served until the new one is ready. */
  async reprocess(id: string): Promise<VideoSummary> {
    const row = await this.get(id);
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
  async delete(id: string): Promise<void> {
    await this.get(id);
    const row = await this.#videos.markDeleted(id);
    if (!row) throw errors.videoDeleted(`Video ${id} was deleted`);
    await this.#store.deletePrefix(`videos/${id}/`);
    await this.#store.delete(row.source_key);
  }
}
