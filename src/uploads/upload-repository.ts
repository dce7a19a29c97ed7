import { type Selectable, sql } from 'kysely';
import type { Db, DbOrTx } from '../platform/db/database.ts';
import type { UploadState, UploadsTable } from '../platform/db/schema.ts';

export type UploadRow = Selectable<UploadsTable>;

export interface ChunkRow {
  idx: number;
  size: number;
  digest: string;
  etag: string | null;
}

export class UploadRepository {
  readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async insert(
    tx: DbOrTx,
    row: Omit<UploadRow, 'created_at' | 'updated_at' | 'video_id'>,
  ): Promise<UploadRow> {
    return tx
      .insertInto('uploads')
      .values({ ...row, video_id: null, updated_at: new Date() })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  find(id: string): Promise<UploadRow | undefined> {
    return this.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async chunks(id: string): Promise<ChunkRow[]> {
    return this.db
      .selectFrom('upload_chunks')
      .select(['idx', 'size', 'digest', 'etag'])
      .where('upload_id', '=', id)
      .orderBy('idx')
      .execute();
  }

  async countChunks(id: string): Promise<number> {
    const row = await this.db
      .selectFrom('upload_chunks')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('upload_id', '=', id)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  findChunk(id: string, index: number): Promise<ChunkRow | undefined> {
    return this.db
      .selectFrom('upload_chunks')
      .select(['idx', 'size', 'digest', 'etag'])
      .where('upload_id', '=', id)
      .where('idx', '=', index)
      .executeTakeFirst();
  }

  /**
   * Records a received chunk while the session is still active, and slides its expiry. One statement:
   * concurrent chunks on several API nodes never lose an update; a duplicate inserts nothing.
   * Returns false when the session is no longer active.
   */
  async recordChunk(id: string, chunk: ChunkRow, expiresAt: Date): Promise<boolean> {
    const result = await sql<{ recorded: number }>`
      with session as (
        update uploads set updated_at = now(), expires_at = ${expiresAt}
        where id = ${id} and state = 'active'
        returning id
      )
      insert into upload_chunks (upload_id, idx, size, digest, etag)
      select id, ${chunk.idx}, ${chunk.size}, ${chunk.digest}, ${chunk.etag} from session
      on conflict (upload_id, idx) do nothing
      returning 1 as recorded`.execute(this.db);
    if (result.rows.length > 0) return true;
    // Nothing inserted: either a duplicate (fine) or the session is gone.
    const row = await this.find(id);
    return row?.state === 'active';
  }

  /** Moves a session from one state to another atomically; returns the row if it moved. */
  async transition(id: string, from: UploadState[], to: UploadState, extra: { staleBefore?: Date } = {}) {
    let query = this.db
      .updateTable('uploads')
      .set({ state: to, updated_at: new Date() })
      .where('id', '=', id)
      .where('state', 'in', from);
    if (extra.staleBefore) query = query.where('updated_at', '<', extra.staleBefore);
    return query.returningAll().executeTakeFirst();
  }

  async markCompleted(tx: DbOrTx, id: string, videoId: string): Promise<void> {
    await tx
      .updateTable('uploads')
      .set({ state: 'completed', video_id: videoId, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  }

  async deleteChunks(id: string): Promise<void> {
    await this.db.deleteFrom('upload_chunks').where('upload_id', '=', id).execute();
  }

  /**
   * Claims expired active sessions (and completions abandoned by a dead process) for sweeping.
   * SKIP LOCKED lets several nodes sweep at once without taking the same session twice.
   */
  async claimExpired(now: Date, limit: number): Promise<UploadRow[]> {
    const result = await sql<UploadRow>`
      update uploads set state = 'expired', updated_at = now()
      where id in (
        select id from uploads
        where state = 'active' and expires_at < ${now}
        order by expires_at
        limit ${limit}
        for update skip locked
      )
      returning *`.execute(this.db);
    return result.rows;
  }
}
