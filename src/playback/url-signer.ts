import { createHmac, timingSafeEqual } from 'node:crypto';
import { mediaPath } from './media-urls.ts';

/*
 * Signed media URLs: HMAC-SHA256 over a path prefix and an expiry, carried IN THE PATH:
 *
 *   /media/s/<expires>/<signature>/<videoId>/<encodeId>/<file>
 *
 * The signature covers `<expires>\n/media/<videoId>/<encodeId>/`, the whole encode directory. Because
 * the authorization is part of the directory, every relative URI inside a playlist (`720p/index.m3u8`,
 * `seg_00001.m4s`, `init_720p.mp4`) and inside the storyboard VTT (`storyboard.jpg#xywh=…`) resolves
 * to another signed URL: a player given nothing but the signed master URL can play the video.
 */

export type SignatureCheck = 'valid' | 'invalid' | 'expired';

/** Expiries are rounded up to this step, so URLs handed out a few minutes apart are identical (cacheable). */
const EXPIRY_STEP_SECONDS = 300;
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Canonical decimal only: a leading zero would be a second spelling of the same expiry. */
const EXPIRES_PATTERN = /^[1-9][0-9]{0,11}$/;

export class MediaUrlSigner {
  readonly #key: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new RangeError('the signing secret must be at least 32 characters');
    this.#key = Buffer.from(secret, 'utf8');
  }

  /** Base64url HMAC-SHA256 of an expiry (Unix seconds) and a path prefix ending in '/'. */
  sign(prefix: string, expires: number): string {
    return createHmac('sha256', this.#key).update(`${expires}\n${prefix}`).digest('base64url');
  }

  /**
   * Checks a signature for a prefix; an unparsable expiry or signature is 'invalid'. Only the canonical
   * spelling is accepted, so one grant has exactly one URL: the signature is compared as the string
   * `sign()` produces (decoding would accept 4 spellings of the last character, whose 2 low bits are
   * padding), in constant time (both are 43 ASCII characters once the pattern has matched).
   */
  verify(prefix: string, expires: string, signature: string, nowSeconds: number): SignatureCheck {
    if (!EXPIRES_PATTERN.test(expires) || !SIGNATURE_PATTERN.test(signature)) return 'invalid';
    const expected = Buffer.from(this.sign(prefix, Number(expires)), 'ascii');
    const given = Buffer.from(signature, 'ascii');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    return Number(expires) <= nowSeconds ? 'expired' : 'valid';
  }

  /** `/media/s/<expires>/<signature>/<videoId>/<encodeId>/<file>`, authorizing the whole encode. */
  signedMediaPath(videoId: string, encodeId: string, file: string, expires: number): string {
    const signature = this.sign(encodePathPrefix(videoId, encodeId), expires);
    return `/media/s/${expires}/${signature}/${videoId}/${encodeId}/${file}`;
  }

  verifyMedia(
    videoId: string,
    encodeId: string,
    expires: string,
    signature: string,
    nowSeconds: number,
  ): SignatureCheck {
    return this.verify(encodePathPrefix(videoId, encodeId), expires, signature, nowSeconds);
  }
}

/** The prefix a media signature covers: one encode's directory. */
export function encodePathPrefix(videoId: string, encodeId: string): string {
  return mediaPath(videoId, encodeId, '');
}

/** An expiry at least `ttlSeconds` from now, rounded up to a 5-minute step. */
export function signedUrlExpiry(nowSeconds: number, ttlSeconds: number): number {
  return Math.ceil((nowSeconds + ttlSeconds) / EXPIRY_STEP_SECONDS) * EXPIRY_STEP_SECONDS;
}
