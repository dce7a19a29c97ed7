import type { Principal } from './principal.ts';

/**
 * Who may do what: the one place ownership and visibility are decided. Pure, table-tested
 * (policy.test.ts); routes and services ask it and turn a refusal into the right error.
 *
 * - an admin key: everything;
 * - a member key: its own uploads and videos; others' public and unlisted videos read-only (by id),
 *   others' private videos do not exist for it (exactly as for anonymous);
 * - an upload token: its one upload session, and reading the video made from it;
 * - a signed media URL: the files of the one video it was signed for;
 * - anonymous: public and unlisted videos, by id.
 */
export type Viewer = Principal | SignedMediaGrant | undefined;

/** A request that came through a valid, unexpired signed media URL (playback/url-signer.ts). */
export interface SignedMediaGrant {
  kind: 'signed-url';
  videoId: string;
}

export interface VideoFacts {
  id: string;
  visibility: 'public' | 'unlisted' | 'private';
  ownerKeyId: string | null;
  uploadId: string | null;
}

export interface UploadFacts {
  id: string;
  ownerKeyId: string | null;
}

function ownsVideo(video: VideoFacts, viewer: Viewer): boolean {
  if (viewer?.kind === 'api-key') return video.ownerKeyId !== null && video.ownerKeyId === viewer.keyId;
  if (viewer?.kind === 'upload-token') return viewer.uploadId !== null && video.uploadId === viewer.uploadId;
  return false;
}

/** Seeing a video at all: its metadata, events and media. Deleted or not is the caller's next question. */
export function canView(video: VideoFacts, viewer: Viewer): boolean {
  if (video.visibility !== 'private') return true;
  if (viewer?.kind === 'signed-url') return viewer.videoId === video.id;
  if (viewer?.kind === 'api-key' && viewer.role === 'admin') return true;
  return ownsVideo(video, viewer);
}

/** Changing a video: reprocess, delete, edit. Only API keys manage videos. */
export function canManageVideo(video: VideoFacts, viewer: Viewer): boolean {
  if (viewer?.kind !== 'api-key') return false;
  return viewer.role === 'admin' || ownsVideo(video, viewer);
}

/** Using an upload session: status, chunks, complete, abort. */
export function canUseUpload(upload: UploadFacts, viewer: Viewer): boolean {
  if (viewer?.kind === 'upload-token') return viewer.uploadId === upload.id;
  if (viewer?.kind !== 'api-key') return false;
  return viewer.role === 'admin' || (upload.ownerKeyId !== null && upload.ownerKeyId === viewer.keyId);
}

/** Reading how the deployment runs (cache statistics and the like): admin keys only. */
export function canOperate(viewer: Viewer): boolean {
  return viewer?.kind === 'api-key' && viewer.role === 'admin';
}
