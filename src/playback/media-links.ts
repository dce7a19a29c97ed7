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

  /** A function from a file of the video's served encode to its path; undefined when nothing is served. */
  forVideo(video: LinkableVideo): ((file: string) => string) | undefined {
    const { id, encodeId } = video;
    if (!encodeId) return undefined;
    if (video.visibility !== 'private') return (file) => mediaPath(id, encodeId, file);
    const expires = signedUrlExpiry(Math.floor(this.#clock.nowMs() / 1000), this.#ttlSeconds);
    return (file) => this.#signer.signedMediaPath(id, encodeId, file, expires);
  }
}
