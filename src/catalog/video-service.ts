import { canManageVideo, canView, type Viewer } from '../auth/policy.ts';
import { errors } from '../errors.ts';
import type { Clock } from '../platform/clock.ts';
import { type Db, transactionExecutor } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import type { JobQueue } from '../platform/queue/job-queue.ts';
import type { BlobStore } from '../platform/storage/blob-store.ts';
import type { RequestProcessing } from '../processing/jobs.ts';
import type { CatalogCache } from './catalog-cache.ts';
import { cleanupVideoJob, removeVideoFiles } from './video-cleanup.ts';
import { editedColumns, type VideoEdit } from './video-fields.ts';
import { type VideoRepository, type VideoSummary, videoFacts } from './video-repository.ts';

export interface VideoServiceDeps {
  db: Db;
  videos: VideoRepository;
  store: BlobStore;
  requestProcessing: RequestProcessing;
  queue: JobQueue;
  clock: Clock;
  log: Logger;
  /** Videos by id between requests; told of every change this service commits. */
  cache: CatalogCache;
}

/** Reading one video, and its lifecycle beyond upload: re-transcode and delete. */
export class VideoService {
  readonly #deps: VideoServiceDeps;

  constructor(deps: VideoServiceDeps) {
    this.#deps = deps;
  }

  /**
   * A video this viewer may see (auth/policy.ts). One it may not see answers 404 exactly like an
   * unknown id, deleted or not: its existence is not revealed. A deleted one it may see answers 410.
   */
  async get(id: string, viewer: Viewer): Promise<VideoSummary> {
    const load = () => this.#deps.videos.findSummary(id);
    return visibleTo(id, await this.#deps.cache.video(id, load), viewer);
  }

  /**
   * A video this viewer may change: others' public videos are read-only (403), the rest hidden (404).
   * Read from the primary, not the cache: a change is decided on the row as it is now.
   */
  async manageable(id: string, viewer: Viewer): Promise<VideoSummary> {
    const row = visibleTo(id, await this.#deps.videos.findSummary(id), viewer);
    if (!canManageVideo(videoFacts(row), viewer)) {
      if (row.visibility === 'public') throw errors.forbidden('This video belongs to another API key');
      throw errors.videoNotFound(`No video ${id}`);
    }
    return row;
  }

  /** Edits title, description, tags, category, language or visibility; the row after the edit. */
  async update(id: string, viewer: Viewer, edit: VideoEdit): Promise<VideoSummary> {
    await this.manageable(id, viewer);
    const columns = editedColumns(edit);
    const row = await this.#deps.videos.update(id, columns);
    if (!row) throw errors.videoDeleted(`Video ${id} was deleted`);
    await this.#deps.cache.changed(id);
    return row;
  }

  /** Makes a new encode; the current one keeps being served until the new one is ready. */
  async reprocess(id: string, viewer: Viewer): Promise<VideoSummary> {
    const row = await this.manageable(id, viewer);
    if (row.status === 'processing') throw errors.videoBusy('The video is already being processed');
    const updated = await this.#deps.db.transaction().execute(async (tx) => {
      const claimed = await tx
        .updateTable('videos')
        .set({
          status: 'processing',
          progress_percent: 0,
          eta_seconds: null,
          error: null,
          updated_at: this.#deps.clock.now(),
        })
        .where('id', '=', id)
        .where('status', 'in', ['ready', 'failed'])
        .returningAll()
        .executeTakeFirst();
      if (!claimed) throw errors.videoBusy('The video is already being processed');
      await this.#deps.requestProcessing(tx, { id, durationSeconds: row.duration_seconds });
      return claimed;
    });
    await this.#deps.cache.changed(id);
    return updated;
  }

  /**
   * Marks the video deleted (the id answers 410 from then on) and removes the source, every encode and
   * every thumbnail. The removal is also a job committed with the mark: if storage fails now, the job
   * finishes it later, and the answer is still 204.
   */
  async delete(id: string, viewer: Viewer): Promise<void> {
    await this.manageable(id, viewer);
    const cleanup = await this.#deps.db.transaction().execute(async (tx) => {
      const row = await this.#deps.videos.markDeleted(id, tx);
      if (!row) throw errors.videoDeleted(`Video ${id} was deleted`);
      const job = { videoId: id, sourceKey: row.source_key };
      await this.#deps.queue.send(cleanupVideoJob, job, { tx: transactionExecutor(tx) });
      return job;
    });
    await this.#deps.cache.changed(id);
    // Now, so the bytes are gone when the answer arrives; the job is the safety net.
    await removeVideoFiles(this.#deps.store, cleanup).catch((error) =>
      this.#deps.log.warn(
        { err: error, videoId: id },
        'video files not removed yet: the cleanup job will retry',
      ),
    );
  }
}

function visibleTo(id: string, row: VideoSummary | undefined, viewer: Viewer): VideoSummary {
  if (!row || !canView(videoFacts(row), viewer)) throw errors.videoNotFound(`No video ${id}`);
  if (row.status === 'deleted') throw errors.videoDeleted(`Video ${id} was deleted`);
  return row;
}
