import type { Selectable } from 'kysely';
import type { Db, DbOrTx } from '../platform/db/database.ts';
import type { VideosTable } from '../platform/db/schema.ts';

export type VideoRow = Selectable<VideosTable>;
export type NewVideo = Omit<VideoRow, 'created_at' | 'updated_at' | 'probe' | 'error'> & { probe: unknown };

export class VideoRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async insert(tx: DbOrTx, video: NewVideo): Promise<VideoRow> {
    return tx
      .insertInto('videos')
      .values({ ...video, probe: JSON.stringify(video.probe), error: null, updated_at: new Date() })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  find(id: string): Promise<VideoRow | undefined> {
    return this.#db.selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirst();
  }
}

/** The public shape of a video in the API. */
export function videoToApi(row: VideoRow) {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    tags: row.tags,
    visibility: row.visibility,
    status: row.status,
    error: (row.error as { code: string; message: string } | null) ?? null,
    durationSeconds: row.duration_seconds,
    width: row.width,
    height: row.height,
    fps: row.fps,
    rotation: row.rotation,
    videoCodec: row.video_codec,
    audioCodec: row.audio_codec,
    bitrate: row.bitrate,
    container: row.container,
    sourceSize: row.source_size,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
