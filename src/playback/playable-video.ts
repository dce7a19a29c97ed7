import type { Db } from '../platform/db/database.ts';
import type { VideoStatus, Visibility } from '../platform/db/schema.ts';

/** What delivery needs to know of a video: who may see it and which encode is served. */
export interface PlayableVideo {
  id: string;
  visibility: Visibility;
  status: VideoStatus;
  /** The encode being served, if any. */
  encodeId: string | null;
  /** The encode in progress, if any (its playlists are still EVENT playlists). */
  pendingEncodeId: string | null;
  ownerKeyId: string | null;
  uploadId: string | null;
}

export interface PlayableVideos {
  find(id: string): Promise<PlayableVideo | undefined>;
}

/** Delivery's narrow read of the `videos` table (a few columns, no JSON): one indexed lookup. */
export function playableVideos(db: Db): PlayableVideos {
  return {
    async find(id) {
      const row = await db
        .selectFrom('videos')
        .select(['id', 'visibility', 'status', 'encode_id', 'pending_encode_id', 'owner_key_id', 'upload_id'])
        .where('id', '=', id)
        .executeTakeFirst();
      return (
        row && {
          id: row.id,
          visibility: row.visibility,
          status: row.status,
          encodeId: row.encode_id,
          pendingEncodeId: row.pending_encode_id,
          ownerKeyId: row.owner_key_id,
          uploadId: row.upload_id,
        }
      );
    },
  };
}
