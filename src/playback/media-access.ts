import { LRUCache } from 'lru-cache';
import type { VideoSummary } from '../catalog/video-repository.ts';
import { errors } from '../errors.ts';
import { type MediaFileKind, mediaFileKind, storageKeyForMedia } from './media-urls.ts';
import type { MediaUrlSigner } from './url-signer.ts';

export interface MediaRequest {
  videoId: string;
  encodeId: string;
  file: string;
  /** The `/media/s/<expires>/<signature>/…` path parameters, when the request came through a signed URL. */
  signed?: { expires: string; signature: string } | undefined;
}

type AccessFacts = Pick<VideoSummary, 'id' | 'visibility' | 'status' | 'encode_id' | 'pending_encode_id'>;

/** What a granted request may be served. */
export interface MediaGrant {
  video: AccessFacts;
  kind: MediaFileKind;
  /** Storage key, built from validated ids and a validated file name only. */
  key: string;
  /** The encode is complete (VOD playlists, final master). */
  final: boolean;
  /** Expiry of the signed URL used (Unix seconds). */
  expiresAt: number | undefined;
}

export interface MediaAccessDeps {
  videos: { findSummary(id: string): Promise<VideoSummary | undefined> };
  signer: MediaUrlSigner;
  now?: () => number;
  /** How long a video's access facts are reused (default 1 s): one query per video per second, not per segment. */
  cacheTtlMs?: number;
}

/**
 * Who may fetch which media file. The signature is checked first (pure, no lookup); then the video:
 * unknown → 404, private without a signature → 404 (as unknown: existence is not revealed),
 * deleted → 410, an encode that is not the one served → 404.
 */
export class MediaAccess {
  readonly #videos: MediaAccessDeps['videos'];
  readonly #signer: MediaUrlSigner;
  readonly #now: () => number;
  readonly #cache: LRUCache<string, { facts: AccessFacts | null }>;

  constructor(deps: MediaAccessDeps) {
    this.#videos = deps.videos;
    this.#signer = deps.signer;
    this.#now = deps.now ?? Date.now;
    this.#cache = new LRUCache({ max: 10_000, ttl: deps.cacheTtlMs ?? 1000 });
  }

  async authorize(request: MediaRequest): Promise<MediaGrant> {
    const { videoId, encodeId, file, signed } = request;
    let expiresAt: number | undefined;
    if (signed) {
      const now = Math.floor(this.#now() / 1000);
      const check = this.#signer.verifyMedia(videoId, encodeId, signed.expires, signed.signature, now);
      if (check === 'invalid') {
        throw errors.mediaSignatureInvalid('The URL signature does not match; ask the API for a new URL');
      }
      if (check === 'expired') {
        throw errors.mediaSignatureExpired('The signed URL has expired; ask the API for a new URL', {
          expiredAt: new Date(Number(signed.expires) * 1000).toISOString(),
        });
      }
      expiresAt = Number(signed.expires);
    }
    const kind = mediaFileKind(file);
    if (!kind) throw errors.mediaNotFound(`No media file ${JSON.stringify(file)}`);
    let video = await this.#visible(videoId, Boolean(signed), false);
    if (video.encode_id !== encodeId) {
      // Perhaps a reprocess just finished: look again before refusing.
      video = await this.#visible(videoId, Boolean(signed), true);
      if (video.encode_id !== encodeId) {
        throw errors.mediaNotFound(
          `Encode ${encodeId} of video ${videoId} is not served; GET /api/v1/videos/${videoId} has the current URLs`,
        );
      }
    }
    return {
      video,
      kind,
      key: storageKeyForMedia(videoId, encodeId, file),
      final: video.pending_encode_id !== encodeId,
      expiresAt,
    };
  }

  /** The video's facts, if this request may see it at all. */
  async #visible(videoId: string, signed: boolean, fresh: boolean): Promise<AccessFacts> {
    const video = await this.#facts(videoId, fresh);
    if (!video || (video.visibility === 'private' && !signed))
      throw errors.videoNotFound(`No video ${videoId}`);
    if (video.status === 'deleted') throw errors.videoDeleted(`Video ${videoId} was deleted`);
    return video;
  }

  async #facts(videoId: string, fresh: boolean): Promise<AccessFacts | null> {
    const cached = fresh ? undefined : this.#cache.get(videoId);
    if (cached) return cached.facts;
    const row = await this.#videos.findSummary(videoId);
    const facts = row
      ? {
          id: row.id,
          visibility: row.visibility,
          status: row.status,
          encode_id: row.encode_id,
          pending_encode_id: row.pending_encode_id,
        }
      : null;
    this.#cache.set(videoId, { facts });
    return facts;
  }
}
