import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** A jsonb column: read as `T` (both drivers parse it), written as JSON text. */
export type JsonColumn<T> = ColumnType<T, string, string>;

// The shapes of the JSON columns: part of the database's shape, like the tables.

/** Files of one encode, relative to `videos/<videoId>/<encodeId>/`. */
export interface EncodeOutputs {
  master: string;
  mp4: string | null;
  posters: Array<{ width: number; height: number; file: string }>;
  storyboard: { vtt: string; sprite: string } | null;
}

/** One rung of the ladder as the master playlist describes it. */
export interface Rendition {
  name: string;
  width: number;
  height: number;
  frameRate: number;
  bandwidth: number;
  averageBandwidth: number;
  codecs: string;
}

/** Why processing failed, as the API shows it. */
export interface VideoError {
  code: string;
  message: string;
}

/** The `complete` request's input, kept while a session completes. */
export interface CompletionInput {
  title?: string;
  description?: string;
  tags?: string[];
  visibility?: Visibility;
  category?: string;
  language?: string;
}

/** The error a rejected completion answered, so a retried `complete` answers the same. */
export interface StoredError {
  code: string;
  status: number;
  message: string;
  details: Record<string, unknown>;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  role: 'admin' | 'member';
  hash: string;
  created_at: Generated<Date>;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface UploadTokensTable {
  id: string;
  hash: string;
  api_key_id: string;
  expires_at: Timestamp;
  upload_id: string | null;
  created_at: Generated<Date>;
}

export type UploadState = 'active' | 'completing' | 'completed' | 'aborted' | 'expired' | 'rejected';

export interface UploadsTable {
  id: string;
  state: UploadState;
  filename: string;
  size: number;
  content_type: string;
  chunk_size: number;
  total_chunks: number;
  sha256: string | null;
  storage_key: string;
  storage_upload_id: string;
  owner_key_id: string | null;
  video_id: string | null;
  /** The `complete` request's input, kept while completing (a dead process's completion is resumed with it). */
  completion: JsonColumn<CompletionInput> | null;
  /** Why a completion was rejected, so a retried `complete` gets the same answer. */
  completion_error: JsonColumn<StoredError> | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
  expires_at: Timestamp;
}

export interface UploadChunksTable {
  upload_id: string;
  idx: number;
  size: number;
  digest: string;
  etag: string | null;
  received_at: Generated<Date>;
  state: Generated<'writing' | 'received'>;
  writer_id: string | null;
  lease_until: Timestamp | null;
}

export type VideoStatus = 'processing' | 'ready' | 'failed' | 'deleted';
export type Visibility = 'public' | 'unlisted' | 'private';

export interface VideosTable {
  id: string;
  title: string;
  description: string;
  tags: string[];
  visibility: Visibility;
  status: VideoStatus;
  duration_seconds: number;
  width: number;
  height: number;
  fps: number | null;
  video_codec: string | null;
  audio_codec: string | null;
  bitrate: number | null;
  rotation: number;
  container: string | null;
  /** ffprobe's raw answer; parsed and validated by media/probe.ts where it is used. */
  probe: JsonColumn<unknown>;
  source_key: string;
  source_size: number;
  upload_id: string | null;
  owner_key_id: string | null;
  error: JsonColumn<VideoError> | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
  playable: Generated<boolean>;
  progress_percent: Generated<number>;
  eta_seconds: number | null;
  encode_id: string | null;
  pending_encode_id: string | null;
  renditions: ColumnType<Rendition[], string | undefined, string>;
  outputs: JsonColumn<EncodeOutputs> | null;
  processing_log: string | null;
  ready_at: Timestamp | null;
  category: string | null;
  language: string | null;
  /** The title folded for sorting (catalog/video-fields.ts foldText). */
  title_sort: Generated<string>;
  views: Generated<number>;
  /** Views in the last 48 h (the `trending` sort). */
  views_recent: Generated<number>;
  /** Tags and description folded for search (catalog/video-fields.ts foldText). */
  search_tags: Generated<string>;
  search_description: Generated<string>;
  search_vector: Generated<string>;
}

/** Instance-wide values shared by every node (e.g. `media_signing_secret`). */
export interface SettingsTable {
  key: string;
  value: string;
}

/** The words of titles and tags, for typo tolerance. */
export interface SearchWordsTable {
  word: string;
}

/** Public ready videos per tag (kept by a trigger on videos). */
export interface TagCountsTable {
  tag: string;
  videos: number;
}

export interface Schema {
  tag_counts: TagCountsTable;
  search_words: SearchWordsTable;
  api_keys: ApiKeysTable;
  upload_tokens: UploadTokensTable;
  uploads: UploadsTable;
  upload_chunks: UploadChunksTable;
  videos: VideosTable;
  settings: SettingsTable;
}
