import type { Clock } from '../platform/clock.ts';
import type { Visibility } from '../platform/db/schema.ts';
import { mediaPath } from './media-urls.ts';
import { type MediaUrlSigner, signedUrlExpiry } from './url-signer.ts';

/** What a link needs to know about a video. */
export interface LinkableVideo {
  id: string;
  encodeId: string | null;
  visibility: Visibility;
}

/**
 * Playback paths handed out by the API: plain for public and unlisted videos, signed (valid for
 * `ttlSeconds`) for private ones.
 */
export class MediaLinks {
  readonly #signer: MediaUrlSigner;
  readonly #ttlSeconds: number;
  readonly #clock: Clock;

  constructor(signer: MediaUrlSigner, ttlSeconds: number, clock: Clock) {
    this.#signer = signer;
    this.#ttlSeconds = ttlSeconds;
    this.#clock = clock;
  }

  /**
   * What a player sends with its playback beacons for an unlisted or private video (`token`), so views
   * cannot be counted by guessing ids: `<expires>.<signature>` over the video, as long-lived as a signed
   * URL. Public videos need none (null).
   */
  beaconToken(video: Pick<LinkableVideo, 'id' | 'visibility'>): string | null {
    if (video.visibility === 'public') return null;
    const expires = signedUrlExpiry(Math.floor(this.#clock.nowMs() / 1000), this.#ttlSeconds);
    return `${expires}.${this.#signer.sign(beaconPrefix(video.id), expires)}`;
  }

  /**
   * Whether `token` lets beacons count for `videoId`: a beacon token, or the parts of a signed media URL
   * of the video (`<expires>.<signature>.<encodeId>`, what a player given only a signed URL has).
   */
  acceptsBeaconToken(videoId: string, token: string): boolean {
    const [expires = '', signature = '', encodeId, ...rest] = token.split('.');
    if (rest.length > 0) return false;
    const now = Math.floor(this.#clock.nowMs() / 1000);
    const check =
      encodeId === undefined
        ? this.#signer.verify(beaconPrefix(videoId), expires, signature, now)
        : this.#signer.verifyMedia(videoId, encodeId, expires, signature, now);
    return check === 'valid';
  }

  /** A function from a file of the video's served encode to its path; undefined when nothing is served. */
  forVideo(video: LinkableVideo): ((file: string) => string) | undefined {
    const { id, encodeId } = video;
    if (!encodeId) return undefined;
    if (video.visibility !== 'private') return (file) => mediaPath(id, encodeId, file);
    const expires = signedUrlExpiry(Math.floor(this.#clock.nowMs() / 1000), this.#ttlSeconds);
    return (file) => this.#signer.signedMediaPath(id, encodeId, file, expires);
  }
}

/** What a beacon token signs: not a media path, so a beacon token never opens media. */
function beaconPrefix(videoId: string): string {
  return `/beacons/${videoId}/`;
}
