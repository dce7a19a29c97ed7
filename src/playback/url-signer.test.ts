import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../platform/clock.ts';
import { MediaLinks } from './media-links.ts';
import { encodePathPrefix, MediaUrlSigner, signedUrlExpiry } from './url-signer.ts';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const signer = new MediaUrlSigner(SECRET);
const VIDEO = 'AAAAAAAAAAAA';
const ENCODE = 'BBBBBBBBBBBB';
const NOW = 1_800_000_000;

describe('MediaUrlSigner', () => {
  it('signs the encode directory with HMAC-SHA256 (known vector)', () => {
    assert.equal(encodePathPrefix(VIDEO, ENCODE), '/media/AAAAAAAAAAAA/BBBBBBBBBBBB/');
    // echo -n $'1800000300\n/media/AAAAAAAAAAAA/BBBBBBBBBBBB/' | openssl dgst -sha256 -hmac "$SECRET" -binary | base64url
    const expected = 'Kl10szWYT9bZ6cWHEXeUxSwibgrDu-euuu_ubxDey4E';
    assert.equal(signer.sign('/media/AAAAAAAAAAAA/BBBBBBBBBBBB/', 1_800_000_300), expected);
    assert.equal(
      signer.signedMediaPath(VIDEO, ENCODE, 'master.m3u8', 1_800_000_300),
      `/media/s/1800000300/${expected}/AAAAAAAAAAAA/BBBBBBBBBBBB/master.m3u8`,
    );
  });

  it('verifies its own signatures, for every file of the encode', () => {
    const path = signer.signedMediaPath(VIDEO, ENCODE, 'master.m3u8', NOW + 60);
    const [, , , expires, signature] = path.split('/');
    assert.equal(signer.verifyMedia(VIDEO, ENCODE, expires!, signature!, NOW), 'valid');
  });

  it('rejects another video, another encode, a changed expiry, another secret', () => {
    const signature = signer.sign(encodePathPrefix(VIDEO, ENCODE), NOW + 60);
    const expires = String(NOW + 60);
    assert.equal(signer.verifyMedia('CCCCCCCCCCCC', ENCODE, expires, signature, NOW), 'invalid');
    assert.equal(signer.verifyMedia(VIDEO, 'CCCCCCCCCCCC', expires, signature, NOW), 'invalid');
    assert.equal(signer.verifyMedia(VIDEO, ENCODE, String(NOW + 61), signature, NOW), 'invalid');
    const other = new MediaUrlSigner(`${SECRET}x`);
    assert.equal(other.verifyMedia(VIDEO, ENCODE, expires, signature, NOW), 'invalid');
  });

  it('rejects malformed expiries and signatures without throwing', () => {
    const signature = signer.sign(encodePathPrefix(VIDEO, ENCODE), NOW + 60);
    for (const [expires, sig] of [
      ['abc', signature],
      ['-1', signature],
      ['1e10', signature],
      [String(NOW + 60), signature.slice(1)],
      [String(NOW + 60), `${signature}A`],
      [String(NOW + 60), signature.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))],
      [String(NOW + 60), ''],
    ] as const) {
      assert.equal(signer.verifyMedia(VIDEO, ENCODE, expires, sig, NOW), 'invalid', `${expires} ${sig}`);
    }
  });

  it('accepts only the canonical spelling: one grant, one URL', () => {
    const expires = NOW + 60;
    const signature = signer.sign(encodePathPrefix(VIDEO, ENCODE), expires);
    assert.equal(signer.verifyMedia(VIDEO, ENCODE, String(expires), signature, NOW), 'valid');
    // 43 base64url characters carry 258 bits for a 256-bit HMAC: the last character's 2 low bits are
    // padding, so 3 other characters decode to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(signature.at(-1)!);
    const siblings = [1, 2, 3].map((bits) => signature.slice(0, -1) + alphabet[last ^ bits]);
    for (const sibling of siblings) {
      assert.deepEqual(Buffer.from(sibling, 'base64url'), Buffer.from(signature, 'base64url'));
      assert.equal(signer.verifyMedia(VIDEO, ENCODE, String(expires), sibling, NOW), 'invalid', sibling);
    }
    // The same number with leading zeros is another spelling of the expiry.
    for (const spelling of [`0${expires}`, `00${expires}`]) {
      assert.equal(signer.verifyMedia(VIDEO, ENCODE, spelling, signature, NOW), 'invalid', spelling);
    }
    // Zero is not a valid expiry either (and would be long expired).
    assert.equal(
      signer.verifyMedia(VIDEO, ENCODE, '0', signer.sign(encodePathPrefix(VIDEO, ENCODE), 0), NOW),
      'invalid',
    );
  });

  it('reports an expired signature only when it is authentic', () => {
    const signature = signer.sign(encodePathPrefix(VIDEO, ENCODE), NOW);
    assert.equal(signer.verifyMedia(VIDEO, ENCODE, String(NOW), signature, NOW), 'expired');
    assert.equal(signer.verifyMedia(VIDEO, ENCODE, String(NOW), signature, NOW - 1), 'valid');
  });

  it('refuses a short secret', () => {
    assert.throws(() => new MediaUrlSigner('short'), RangeError);
  });
});

describe('signedUrlExpiry', () => {
  it('is at least the lifetime away, rounded up to 5 minutes', () => {
    assert.equal(signedUrlExpiry(1000, 3600), 4800);
    assert.equal(signedUrlExpiry(900, 3600), 4500);
    assert.equal(signedUrlExpiry(901, 3600), 4800);
  });
});

describe('MediaLinks', () => {
  const links = new MediaLinks(signer, 3600, new ManualClock(NOW * 1000));
  it('public and unlisted videos get plain paths', () => {
    for (const visibility of ['public', 'unlisted'] as const) {
      const path = links.forVideo({ id: VIDEO, encodeId: ENCODE, visibility })!;
      assert.equal(path('master.m3u8'), `/media/${VIDEO}/${ENCODE}/master.m3u8`);
    }
  });
  it('private videos get signed paths, one expiry for every file', () => {
    const path = links.forVideo({ id: VIDEO, encodeId: ENCODE, visibility: 'private' })!;
    const master = path('master.m3u8');
    const poster = path('poster_640.jpg');
    const expires = signedUrlExpiry(NOW, 3600);
    assert.equal(master, signer.signedMediaPath(VIDEO, ENCODE, 'master.m3u8', expires));
    assert.equal(poster.replace('poster_640.jpg', 'master.m3u8'), master);
  });
  it('nothing is served without an encode', () => {
    assert.equal(links.forVideo({ id: VIDEO, encodeId: null, visibility: 'public' }), undefined);
  });
});
