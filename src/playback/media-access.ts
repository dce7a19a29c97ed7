import { canView } from '../auth/policy.ts';
import { errors } from '../errors.ts';
import { encodeFileKey } from '../media/storage-layout.ts';
import type { Cache } from '../platform/cache/cache.ts';
import type { Clock } from '../platform/clock.ts';
import { type MediaFileKind, mediaFileKind } from './media-urls.ts';
import type { PlayableVideo, PlayableVideos } from './playable-video.ts';
import type { MediaUrlSigner } from './url-signer.ts';

export interface MediaRequest {
  videoId: string;
  encodeId: string;
  file: string;
  /** The `/media/s/<expires>/<signature>/…` path parameters, when the request came through a signed URL. */
  signed?: { expires: string; signature: string } | undefined;
}

/** What a granted request may be served. */
export interface MediaGrant {
  video: PlayableVideo;
  kind: MediaFileKind;
  /** Storage key, built from validated ids and a validated file name only. */
  key: string;
  /** The encode is complete (VOD playlists, final master). */
  final: boolean;
  /** Expiry of the signed URL used (Unix seconds). */
  expiresAt: number | undefined;
}

export interface MediaAccessDeps {
  videos: PlayableVideos;
  signer: MediaUrlSigner;
  clock: Clock;
  /** Where a video's facts are kept for a second: one query per video per second, not per segment. */
  cache: Cache;
}

const FACTS_TTL_MS = 1000;

/**
 * Who may fetch which media file. The signature is checked first (pure, no lookup); then the video:
 * unknown → 404, one the request may not view (auth/policy.ts canView: private without a signature)
 * → 404 as unknown (existence is not revealed), deleted → 410, an encode that is not served → 404.
 */
export class MediaAccess {
  readonly #deps: MediaAccessDeps;

  constructor(deps: MediaAccessDeps) {
    this.#deps = deps;
  }

  async authorize(request: MediaRequest): Promise<MediaGrant> {
    const { videoId, encodeId, file, signed } = request;
    const expiresAt = signed ? this.#verifySignature(request, signed) : undefined;
    const kind = mediaFileKind(file);
    if (!kind) throw errors.mediaNotFound(`No media file ${JSON.stringify(file)}`);
    let video = await this.#visible(videoId, Boolean(signed), false);
    if (video.encodeId !== encodeId) {
      // Perhaps a reprocess just finished: look again before refusing.
      video = await this.#visible(videoId, Boolean(signed), true);
      if (video.encodeId !== encodeId) {
        throw errors.mediaNotFound(
          `Encode ${encodeId} of video ${videoId} is not served; GET /api/v1/videos/${videoId} has the current URLs`,
        );
      }
    }
    return {
      video,
      kind,
      key: encodeFileKey(videoId, encodeId, file),
      final: video.pendingEncodeId !== encodeId,
      expiresAt,
    };
  }

  /** The signed URL's expiry (Unix seconds), or throws when it is forged or expired. */
  #verifySignature(request: MediaRequest, signed: { expires: string; signature: string }): number {
    const now = Math.floor(this.#deps.clock.nowMs() / 1000);
    const check = this.#deps.signer.verifyMedia(
      request.videoId,
      request.encodeId,
      signed.expires,
      signed.signature,
      now,
    );
    if (check === 'invalid') {
      throw errors.mediaSignatureInvalid('The URL signature does not match; ask the API for a new URL');
    }
    if (check === 'expired') {
      throw errors.mediaSignatureExpired('The signed URL has expired; ask the API for a new URL', {
        expiredAt: new Date(Number(signed.expires) * 1000).toISOString(),
      });
    }
    return Number(signed.expires);
  }

  /** The video, if this request may see it at all. */
  async #visible(videoId: string, signed: boolean, fresh: boolean): Promise<PlayableVideo> {
    const video = await this.#find(videoId, fresh);
    const viewer = signed ? ({ kind: 'signed-url', videoId } as const) : undefined;
    if (!video || !canView(video, viewer)) throw errors.videoNotFound(`No video ${videoId}`);
    if (video.status === 'deleted') throw errors.videoDeleted(`Video ${videoId} was deleted`);
    return video;
  }

  async #find(videoId: string, fresh: boolean): Promise<PlayableVideo | null> {
    const { cache, videos } = this.#deps;
    const load = async () => (await videos.find(videoId)) ?? null;
    if (!fresh) return cache.getOrLoad(videoId, FACTS_TTL_MS, load);
    const video = await load();
    await cache.set(videoId, video, { ttlMs: FACTS_TTL_MS });
    return video;
  }
}
