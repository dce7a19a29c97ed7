import type { Principal } from './principal.ts';

/**
 * Who may do what: the one place ownership and visibility are decided. Pure, table-tested
 * (policy.test.ts); routes and services ask it and turn a refusal into the right error.
 *
 * - an admin key: everything;
 * - a member key: its own uploads and videos; others' public and unlisted videos read-only (by id),
 *   others' private videos do not exist for it (exactly as for anonymous);
 * - an upload token: its one upload session, and reading the video made from it;
 * - anonymous: public and unlisted videos, by id.
 */
export type Viewer = Principal | undefined;

export interface VideoFacts {
  visibility: 'public' | 'unlisted' | 'private';
  owner_key_id: string | null;
  upload_id: string | null;
}

export interface UploadFacts {
  id: string;
  owner_key_id: string | null;
}

function ownsVideo(video: VideoFacts, viewer: Viewer): boolean {
  if (!viewer) return false;
  if (viewer.kind === 'api-key') return video.owner_key_id !== null && video.owner_key_id === viewer.keyId;
  return viewer.uploadId !== null && video.upload_id === viewer.uploadId;
}

/** Reading a video by id: its metadata, events and (signed, when private) playback URLs. */
export function canReadVideo(video: VideoFacts, viewer: Viewer): boolean {
  if (video.visibility !== 'private') return true;
  if (viewer?.role === 'admin' && viewer.kind === 'api-key') return true;
  return ownsVideo(video, viewer);
}

/** Changing a video: reprocess, delete, edit. Upload tokens never manage videos. */
export function canManageVideo(video: VideoFacts, viewer: Viewer): boolean {
  if (viewer?.kind !== 'api-key') return false;
  return viewer.role === 'admin' || ownsVideo(video, viewer);
}

/** Using an upload session: status, chunks, complete, abort. */
export function canUseUpload(upload: UploadFacts, viewer: Viewer): boolean {
  if (!viewer) return false;
  if (viewer.kind === 'upload-token') return viewer.uploadId === upload.id;
  return viewer.role === 'admin' || (upload.owner_key_id !== null && upload.owner_key_id === viewer.keyId);
}
