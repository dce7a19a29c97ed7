import { type Selectable, sql, type Updateable } from 'kysely';
import type { Db, DbOrTx } from '../platform/db/database.ts';
import type { StoredError, UploadState, UploadsTable } from '../platform/db/schema.ts';

export type UploadRow = Selectable<UploadsTable>;

export interface ChunkRow {
  idx: number;
  size: number;
  digest: string;
  etag: string | null;
}

/** A request's claim on one chunk index: the digest it promises and who it is. */
export interface ChunkClaim {
  idx: number;
  size: number;
  digest: string;
  writer: string;
}

/** What the database holds for one index: received, or being written with `leaseSeconds` left. */
export interface ChunkSlot {
  state: 'writing' | 'received';
  digest: string;
  leaseSeconds: number | null;
}

export class UploadRepository {
  readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async insert(
    tx: DbOrTx,
    row: Omit<UploadRow, 'created_at' | 'updated_at' | 'video_id' | 'completion' | 'completion_error'>,
  ): Promise<UploadRow> {
    return tx
      .insertInto('uploads')
      .values({ ...row, video_id: null, completion: null, completion_error: null, updated_at: new Date() })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  find(id: string): Promise<UploadRow | undefined> {
    return this.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The received set: chunks whose bytes and digest were both recorded by one request. */
  async chunks(id: string): Promise<ChunkRow[]> {
    return this.db
      .selectFrom('upload_chunks')
      .select(['idx', 'size', 'digest', 'etag'])
      .where('upload_id', '=', id)
      .where('state', '=', 'received')
      .orderBy('idx')
      .execute();
  }

  async countChunks(id: string): Promise<number> {
    const row = await this.db
      .selectFrom('upload_chunks')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('upload_id', '=', id)
      .where('state', '=', 'received')
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** The chunk's row, received or being written (with the lease left, in whole seconds). */
  async findChunk(id: string, index: number): Promise<ChunkSlot | undefined> {
    const row = await sql<ChunkSlot>`
      select state, digest,
        greatest(0, ceil(extract(epoch from (lease_until - now()))))::int as "leaseSeconds"
      from upload_chunks where upload_id = ${id} and idx = ${index}`.execute(this.db);
    return row.rows[0];
  }

  /**
   * Claims chunk `idx` for one request (`writer`) while the session is active: only the claim holder
   * writes the chunk's bytes, so the bytes and the recorded digest always come from one request. A
   * claim whose lease ran out (its writer died) can be taken over; a received chunk never can.
   * One statement, atomic on the row across API nodes. Returns true when this writer holds the claim.
   */
  async claimChunk(id: string, chunk: ChunkClaim, leaseSeconds: number): Promise<boolean> {
    const result = await sql`
      insert into upload_chunks (upload_id, idx, size, digest, etag, state, writer_id, lease_until)
      select id, ${chunk.idx}, ${chunk.size}, ${chunk.digest}, null, 'writing', ${chunk.writer},
        now() + make_interval(secs => ${leaseSeconds})
      from uploads where id = ${id} and state = 'active'
      on conflict (upload_id, idx) do update
        set size = excluded.size, digest = excluded.digest, writer_id = excluded.writer_id,
          lease_until = excluded.lease_until, received_at = now()
        where upload_chunks.state = 'writing' and upload_chunks.lease_until < now()
      returning 1 as claimed`.execute(this.db);
    return result.rows.length > 0;
  }

  /** Extends a claim while its bytes are still arriving; false when the claim was lost. */
  async renewChunkClaim(id: string, idx: number, writer: string, leaseSeconds: number): Promise<boolean> {
    const result = await sql`
      update upload_chunks set lease_until = now() + make_interval(secs => ${leaseSeconds})
      where upload_id = ${id} and idx = ${idx} and writer_id = ${writer} and state = 'writing'
      returning 1 as renewed`.execute(this.db);
    return result.rows.length > 0;
  }

  /** Gives a claim up (its bytes did not verify, or the body broke off): the chunk stays missing. */
  async releaseChunkClaim(id: string, idx: number, writer: string): Promise<void> {
    await this.db
      .deleteFrom('upload_chunks')
      .where('upload_id', '=', id)
      .where('idx', '=', idx)
      .where('writer_id', '=', writer)
      .where('state', '=', 'writing')
      .execute();
  }

  /**
   * Turns this writer's claim into a received chunk while the session is still active, and slides the
   * session's expiry. One statement: concurrent chunks on several API nodes never lose an update.
   * Returns false when the session is no longer active or the claim was lost.
   */
  async recordChunk(
    id: string,
    chunk: { idx: number; writer: string; etag: string | null },
    expiresAt: Date,
  ): Promise<boolean> {
    const result = await sql`
      with session as (
        update uploads set updated_at = now(), expires_at = ${expiresAt}
        where id = ${id} and state = 'active'
        returning id
      )
      update upload_chunks set state = 'received', etag = ${chunk.etag}, writer_id = null,
        lease_until = null, received_at = now()
      where upload_id = (select id from session) and idx = ${chunk.idx}
        and writer_id = ${chunk.writer} and state = 'writing'
      returning 1 as recorded`.execute(this.db);
    return result.rows.length > 0;
  }

  /**
   * One guarded change of a session: applied only while its state is one of `from` (and, with
   * `staleBefore`, only if it has not been touched since), so concurrent callers cannot both win.
   * Returns the row when it changed.
   */
  async #guarded(
    tx: DbOrTx,
    id: string,
    from: UploadState[],
    set: Updateable<UploadsTable>,
    staleBefore?: Date,
  ): Promise<UploadRow | undefined> {
    let query = tx
      .updateTable('uploads')
      .set({ ...set, updated_at: new Date() })
      .where('id', '=', id)
      .where('state', 'in', from);
    if (staleBefore) query = query.where('updated_at', '<', staleBefore);
    return query.returningAll().executeTakeFirst();
  }

  /** Moves a session from one state to another atomically; returns the row if it moved. */
  transition(id: string, from: UploadState[], to: UploadState): Promise<UploadRow | undefined> {
    return this.#guarded(this.db, id, from, { state: to });
  }

  /**
   * Starts a completion: active → completing, keeping the client's input so that a completion
   * abandoned by a dead process can be finished by another one with the same result.
   */
  beginCompletion(id: string, input: unknown): Promise<UploadRow | undefined> {
    return this.#guarded(this.db, id, ['active'], { state: 'completing', completion: JSON.stringify(input) });
  }

  /** Takes over a completion whose process stopped renewing it (its heartbeat is older than `staleBefore`). */
  takeOverCompletion(id: string, staleBefore: Date): Promise<UploadRow | undefined> {
    return this.#guarded(this.db, id, ['completing'], {}, staleBefore);
  }

  /** A completion's heartbeat: it is alive as long as this keeps succeeding. */
  async renewCompletion(id: string): Promise<void> {
    await this.#guarded(this.db, id, ['completing'], {});
  }

  /** Ends a completion the file failed for good; the error is kept so a retry gets the same answer. */
  async rejectCompletion(id: string, error: StoredError): Promise<void> {
    await this.#guarded(this.db, id, ['completing'], {
      state: 'rejected',
      completion_error: JSON.stringify(error),
    });
  }

  /** Gives a completion up after a transient failure: the client may try again. */
  async abandonCompletion(id: string): Promise<void> {
    await this.#guarded(this.db, id, ['completing'], { state: 'active', completion: null });
  }

  /** Within the video's transaction: only the holder of the completion makes its video. */
  async markCompleted(tx: DbOrTx, id: string, videoId: string): Promise<boolean> {
    return (
      (await this.#guarded(tx, id, ['completing'], { state: 'completed', video_id: videoId })) !== undefined
    );
  }

  async deleteChunks(id: string): Promise<void> {
    await this.db.deleteFrom('upload_chunks').where('upload_id', '=', id).execute();
  }

  /** Sessions and bytes a key holds open (active or completing): what its quota counts. */
  async usageOf(tx: DbOrTx, ownerKeyId: string): Promise<{ sessions: number; bytes: number }> {
    const row = await tx
      .selectFrom('uploads')
      .select((eb) => [eb.fn.countAll<number>().as('sessions'), eb.fn.sum<number>('size').as('bytes')])
      .where('owner_key_id', '=', ownerKeyId)
      .where('state', 'in', ['active', 'completing'])
      .executeTakeFirstOrThrow();
    return { sessions: Number(row.sessions), bytes: Number(row.bytes ?? 0) };
  }

  /** Bytes every open session still has to write: what the disk must still be able to hold. */
  async pendingBytes(): Promise<number> {
    const result = await sql<{ pending: string | number | null }>`
      select coalesce(sum(u.size), 0) - coalesce((
        select sum(c.size) from upload_chunks c join uploads o on o.id = c.upload_id
        where o.state in ('active', 'completing')), 0) as pending
      from uploads u where u.state in ('active', 'completing')`.execute(this.db);
    return Number(result.rows[0]?.pending ?? 0);
  }

  /** Serializes quota checks of one key across API nodes (held until the transaction ends). */
  async lockOwner(tx: DbOrTx, ownerKeyId: string): Promise<void> {
    await sql`select pg_advisory_xact_lock(7469003, hashtext(${ownerKeyId}))`.execute(tx);
  }

  /**
   * Moves up to `limit` active sessions past their expiry to `expired` and returns them, for the caller
   * to free their bytes. SKIP LOCKED lets several nodes sweep at once, each session moved by one of
   * them. Only `active` sessions expire: a completion abandoned by a dead process is resumed instead
   * (claimStaleCompletions).
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

  /** Claims completions whose process died (no heartbeat since `staleBefore`), to finish them. */
  async claimStaleCompletions(staleBefore: Date, limit: number): Promise<UploadRow[]> {
    const result = await sql<UploadRow>`
      update uploads set updated_at = now()
      where id in (
        select id from uploads
        where state = 'completing' and updated_at < ${staleBefore}
        order by updated_at
        limit ${limit}
        for update skip locked
      )
      returning *`.execute(this.db);
    return result.rows;
  }
}
