import { sql } from 'kysely';
import type { Cache } from '../platform/cache/cache.ts';
import type { Db } from '../platform/db/database.ts';

/** What a beacon needs to know of its video. */
export interface BeaconVideo {
  id: string;
  visibility: 'public' | 'unlisted' | 'private';
  durationSeconds: number;
  ownerKeyId: string | null;
}

/** Videos that take beacons: playable (ready, or processing but already served), not deleted. */
export class BeaconVideos {
  readonly #db: Db;
  readonly #cache: Cache;

  constructor(db: Db, cache: Cache) {
    this.#db = db;
    this.#cache = cache;
  }

  /** Cached for a few seconds: one query per video per few seconds, whatever the beacon rate. */
  find(videoId: string): Promise<BeaconVideo | null> {
    return this.#cache.getOrLoad(videoId, 5000, async () => {
      const result = await sql<{
        id: string;
        visibility: BeaconVideo['visibility'];
        duration_seconds: number;
        owner_key_id: string | null;
      }>`
        select id, visibility, duration_seconds, owner_key_id from videos
        where id = ${videoId} and playable and status <> 'deleted'`.execute(this.#db);
      const row = result.rows[0];
      if (!row) return null;
      return {
        id: row.id,
        visibility: row.visibility,
        durationSeconds: row.duration_seconds,
        ownerKeyId: row.owner_key_id,
      };
    });
  }
}
