import { sql } from 'kysely';
import type { Db } from '../platform/db/database.ts';
import type { EncodeOutputs, Rendition, VideoError, VideoStatus } from '../platform/db/schema.ts';

/** What a processing job needs to know of its video. */
export interface VideoToProcess {
  id: string;
  status: VideoStatus;
  probe: unknown;
  sourceKey: string;
}

/**
 * The encode columns of `videos` (pending/served encode, progress, outputs, failure): processing owns
 * them. Every transition is guarded by status, so a video deleted meanwhile stays deleted.
 */
export class EncodeRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async find(videoId: string): Promise<VideoToProcess | undefined> {
    const row = await this.#db
      .selectFrom('videos')
      .select(['id', 'status', 'probe', 'source_key'])
      .where('id', '=', videoId)
      .executeTakeFirst();
    return row && { id: row.id, status: row.status, probe: row.probe, sourceKey: row.source_key };
  }

  /** The video's status now; undefined when there is no such video. */
  async status(videoId: string): Promise<VideoStatus | undefined> {
    const row = await this.#db
      .selectFrom('videos')
      .select('status')
      .where('id', '=', videoId)
      .executeTakeFirst();
    return row?.status;
  }

  /**
   * Makes `encodeId` the encode in progress and returns the one it replaces (a dead attempt whose
   * partial output must be discarded), or undefined when the video is no longer processing (deleted,
   * or already finished).
   */
  async claimEncode(videoId: string, encodeId: string): Promise<{ abandoned: string | null } | undefined> {
    const result = await sql<{ abandoned: string | null }>`
      update videos v set pending_encode_id = ${encodeId}, progress_percent = 0,
        eta_seconds = null, error = null, updated_at = now(),
        -- a dead attempt that was already served early: stop serving what is about to be deleted
        encode_id = case when v.encode_id = old.pending_encode_id then null else v.encode_id end,
        playable = case when v.encode_id = old.pending_encode_id then false else v.playable end
      from (select id, pending_encode_id from videos where id = ${videoId} for update) old
      where v.id = old.id and v.status = 'processing'
      returning old.pending_encode_id as abandoned`.execute(this.#db);
    return result.rows[0];
  }

  async updateProgress(videoId: string, encodeId: string, percent: number, etaSeconds: number | null) {
    await this.#db
      .updateTable('videos')
      .set({ progress_percent: percent, eta_seconds: etaSeconds, updated_at: sql<Date>`now()` })
      .where('id', '=', videoId)
      .where('pending_encode_id', '=', encodeId)
      .where('status', '=', 'processing')
      .execute();
  }

  /**
   * The first segments of every rung are in storage. A first encode starts being served now; a
   * reprocess keeps serving the previous encode until the new one is complete.
   */
  async markPlayable(videoId: string, encodeId: string, outputs: EncodeOutputs, renditions: Rendition[]) {
    await this.#db
      .updateTable('videos')
      .set({
        playable: true,
        encode_id: encodeId,
        outputs: JSON.stringify(outputs),
        renditions: JSON.stringify(renditions),
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', videoId)
      .where('pending_encode_id', '=', encodeId)
      .where('encode_id', 'is', null)
      .where('status', '=', 'processing')
      .execute();
  }

  /** Publishes a finished encode; returns the encode it replaced (to delete), or undefined if superseded. */
  async finishEncode(
    videoId: string,
    encodeId: string,
    outputs: EncodeOutputs,
    renditions: Rendition[],
  ): Promise<{ replaced: string | null } | undefined> {
    const result = await sql<{ replaced: string | null }>`
      update videos v set status = 'ready', playable = true, encode_id = ${encodeId}, pending_encode_id = null,
        outputs = ${JSON.stringify(outputs)}, renditions = ${JSON.stringify(renditions)},
        progress_percent = 100, eta_seconds = 0, error = null, processing_log = null,
        ready_at = now(), updated_at = now()
      from (select id, encode_id from videos where id = ${videoId} for update) old
      where v.id = old.id and v.pending_encode_id = ${encodeId} and v.status = 'processing'
      returning old.encode_id as replaced`.execute(this.#db);
    const row = result.rows[0];
    if (!row) return undefined;
    return { replaced: row.replaced === encodeId ? null : row.replaced };
  }

  /** A failed encode. A video that was already being served keeps being served (status stays usable). */
  async markFailed(videoId: string, encodeId: string, error: VideoError, log: string | null): Promise<void> {
    await sql`
      update videos set status = case when encode_id is not null and encode_id <> ${encodeId} then 'ready' else 'failed' end,
        playable = encode_id is not null and encode_id <> ${encodeId},
        encode_id = case when encode_id = ${encodeId} then null else encode_id end,
        pending_encode_id = null, error = ${JSON.stringify(error)}, processing_log = ${log},
        eta_seconds = null, updated_at = now()
      where id = ${videoId} and pending_encode_id = ${encodeId} and status = 'processing'`.execute(this.#db);
  }
}
