import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openServiceFixture, rejectsWith, type ServiceFixture } from '../../test/support/services.ts';
import { videoFixture } from '../../test/support/videos.ts';
import { VideoRepository } from '../catalog/video-repository.ts';
import { createLruCache } from '../platform/cache/lru-cache.ts';
import type { Visibility } from '../platform/db/schema.ts';
import { EncodeRepository } from '../processing/encode-repository.ts';
import { MediaAccess, type MediaRequest } from './media-access.ts';
import { type PlayableVideos, playableVideos } from './playable-video.ts';
import { encodePathPrefix, MediaUrlSigner } from './url-signer.ts';

const OUTPUTS = { master: 'master.m3u8', mp4: null, posters: [], storyboard: null };

describe('MediaAccess (real PGlite, signer, ManualClock, LRU cache)', () => {
  let f: ServiceFixture;
  let videos: VideoRepository;
  let encodes: EncodeRepository;
  let signer: MediaUrlSigner;
  let access: MediaAccess;
  /** Reads of the database by MediaAccess, by video id. */
  const loads = new Map<string, number>();
  let counter = 0;

  function newAccess(): MediaAccess {
    const real = playableVideos(f.db);
    const counted: PlayableVideos = {
      find(id) {
        loads.set(id, (loads.get(id) ?? 0) + 1);
        return real.find(id);
      },
    };
    return new MediaAccess({
      videos: counted,
      signer,
      clock: f.clock,
      cache: createLruCache({ maxEntries: 100, clock: f.clock }).namespace('playback'),
    });
  }

  /** A ready video serving one finished encode. */
  async function readyVideo(visibility: Visibility): Promise<{ id: string; encodeId: string }> {
    const id = `media${String(++counter).padStart(7, '0')}`;
    const encodeId = `enc${id.slice(5)}a`;
    await videos.insert(f.db, videoFixture(id, { visibility }));
    await encodes.claimEncode(id, encodeId);
    assert.ok(await encodes.finishEncode(id, encodeId, OUTPUTS, []));
    return { id, encodeId };
  }

  /** A signature for the encode's directory, valid for `ttlSeconds` from the clock's now. */
  function signed(videoId: string, encodeId: string, ttlSeconds = 600) {
    const expires = Math.floor(f.clock.nowMs() / 1000) + ttlSeconds;
    return { expires: String(expires), signature: signer.sign(encodePathPrefix(videoId, encodeId), expires) };
  }

  before(async () => {
    f = await openServiceFixture();
    videos = new VideoRepository(f.db);
    encodes = new EncodeRepository(f.db);
    signer = new MediaUrlSigner('a-signing-secret-of-at-least-32-characters');
    access = newAccess();
  });
  after(() => f?.close());

  it('a public video: the served encode is granted, its key built from the request, final once complete', async () => {
    const { id, encodeId } = await readyVideo('public');
    const grant = await access.authorize({ videoId: id, encodeId, file: '180p/seg_00001.m4s' });
    assert.equal(grant.key, `videos/${id}/${encodeId}/180p/seg_00001.m4s`);
    assert.deepEqual(grant.kind, { contentType: 'video/mp4', text: false, playlist: false });
    assert.equal(grant.final, true);
    assert.equal(grant.expiresAt, undefined);
    assert.deepEqual([grant.video.id, grant.video.encodeId, grant.video.status], [id, encodeId, 'ready']);
    const master = await access.authorize({ videoId: id, encodeId, file: 'master.m3u8' });
    assert.equal(master.kind.playlist, true);
  });

  it('an unlisted video is granted without a signature', async () => {
    const { id, encodeId } = await readyVideo('unlisted');
    assert.equal(
      (await access.authorize({ videoId: id, encodeId, file: 'master.m3u8' })).key,
      `videos/${id}/${encodeId}/master.m3u8`,
    );
  });

  it('an encode still in progress (served early) is not final; the previous encode of a reprocess is', async () => {
    const first = `media${String(++counter).padStart(7, '0')}`;
    await videos.insert(f.db, videoFixture(first, { visibility: 'public' }));
    await encodes.claimEncode(first, 'earlyencode1');
    await encodes.markPlayable(first, 'earlyencode1', OUTPUTS, []);
    const early = await access.authorize({
      videoId: first,
      encodeId: 'earlyencode1',
      file: '180p/index.m3u8',
    });
    assert.equal(early.final, false, 'its playlists are still growing');

    const { id, encodeId } = await readyVideo('public');
    await f.db.updateTable('videos').set({ status: 'processing' }).where('id', '=', id).execute();
    await encodes.claimEncode(id, 'newencode001');
    const old = await access.authorize({ videoId: id, encodeId, file: '180p/index.m3u8' });
    assert.equal(old.final, true);
  });

  it('an unknown video, or a private one without a signature, is VIDEO_NOT_FOUND', async () => {
    await rejectsWith(
      access.authorize({ videoId: 'nosuchvideo1', encodeId: 'nosuchencode', file: 'master.m3u8' }),
      'VIDEO_NOT_FOUND',
    );
    const { id, encodeId } = await readyVideo('private');
    await rejectsWith(access.authorize({ videoId: id, encodeId, file: 'master.m3u8' }), 'VIDEO_NOT_FOUND');
  });

  it('a private video with a valid signature is granted, with the expiry of the signed URL', async () => {
    const { id, encodeId } = await readyVideo('private');
    const signature = signed(id, encodeId);
    const grant = await access.authorize({
      videoId: id,
      encodeId,
      file: 'poster_640.jpg',
      signed: signature,
    });
    assert.equal(grant.key, `videos/${id}/${encodeId}/poster_640.jpg`);
    assert.equal(grant.expiresAt, Number(signature.expires));
    assert.equal(grant.final, true);
  });

  it('a tampered signature, or one for another video or encode, is MEDIA_SIGNATURE_INVALID', async () => {
    const { id, encodeId } = await readyVideo('private');
    const other = await readyVideo('private');
    const good = signed(id, encodeId);
    const flipped = good.signature.at(-2) === 'A' ? 'B' : 'A';
    const tampered = {
      ...good,
      signature: `${good.signature.slice(0, -2)}${flipped}${good.signature.at(-1)}`,
    };
    const request = { videoId: id, encodeId, file: 'master.m3u8' };
    await rejectsWith(access.authorize({ ...request, signed: tampered }), 'MEDIA_SIGNATURE_INVALID');
    const later = { ...good, expires: String(Number(good.expires) + 3600) }; // a longer life, same signature
    await rejectsWith(access.authorize({ ...request, signed: later }), 'MEDIA_SIGNATURE_INVALID');
    await rejectsWith(
      access.authorize({ videoId: other.id, encodeId: other.encodeId, file: 'master.m3u8', signed: good }),
      'MEDIA_SIGNATURE_INVALID',
    );
    await rejectsWith(
      access.authorize({ ...request, encodeId: 'anotherencod', signed: good }),
      'MEDIA_SIGNATURE_INVALID',
    );
    await rejectsWith(
      access.authorize({ ...request, signed: { ...good, signature: 'short' } }),
      'MEDIA_SIGNATURE_INVALID',
    );
    // The signature is checked first: a forged one learns nothing about whether the video exists.
    await rejectsWith(
      access.authorize({ videoId: 'nosuchvideo1', encodeId, file: 'master.m3u8', signed: good }),
      'MEDIA_SIGNATURE_INVALID',
    );
    assert.ok(await access.authorize({ ...request, signed: good }), 'the untouched signature is valid');
  });

  it('a signature is valid until its expiry second, MEDIA_SIGNATURE_EXPIRED from then on', async () => {
    const { id, encodeId } = await readyVideo('private');
    const signature = signed(id, encodeId, 60);
    const request: MediaRequest = { videoId: id, encodeId, file: 'master.m3u8', signed: signature };
    f.clock.set(Number(signature.expires) * 1000 - 1);
    assert.equal((await access.authorize(request)).expiresAt, Number(signature.expires));
    f.clock.advance(1);
    const expired = await rejectsWith(access.authorize(request), 'MEDIA_SIGNATURE_EXPIRED');
    assert.deepEqual(expired.details, {
      expiredAt: new Date(Number(signature.expires) * 1000).toISOString(),
    });
  });

  it('a deleted video is VIDEO_DELETED when visible, VIDEO_NOT_FOUND when private and unsigned', async () => {
    const open = await readyVideo('public');
    await videos.markDeleted(open.id);
    await rejectsWith(
      access.authorize({ videoId: open.id, encodeId: open.encodeId, file: 'master.m3u8' }),
      'VIDEO_DELETED',
    );
    const hidden = await readyVideo('private');
    await videos.markDeleted(hidden.id);
    const request = { videoId: hidden.id, encodeId: hidden.encodeId, file: 'master.m3u8' };
    await rejectsWith(access.authorize(request), 'VIDEO_NOT_FOUND');
    await rejectsWith(
      access.authorize({ ...request, signed: signed(hidden.id, hidden.encodeId) }),
      'VIDEO_DELETED',
    );
  });

  it('an encode that is not served, or a file name that cannot be one of its files, is MEDIA_NOT_FOUND', async () => {
    const { id, encodeId } = await readyVideo('public');
    await rejectsWith(
      access.authorize({ videoId: id, encodeId: 'notserved001', file: 'master.m3u8' }),
      'MEDIA_NOT_FOUND',
    );
    // A private video's unserved encode, signed for that encode: still not served.
    const hidden = await readyVideo('private');
    await rejectsWith(
      access.authorize({
        videoId: hidden.id,
        encodeId: 'notserved002',
        file: 'master.m3u8',
        signed: signed(hidden.id, 'notserved002'),
      }),
      'MEDIA_NOT_FOUND',
    );
    for (const file of [
      '../master.m3u8',
      'a/b/seg.m4s',
      'master.exe',
      'master.m3u8.bak',
      '',
      '.m3u8',
      'a b.jpg',
    ]) {
      await rejectsWith(access.authorize({ videoId: id, encodeId, file }), 'MEDIA_NOT_FOUND');
    }
  });

  it("a video's facts are read once a second, not per request", async () => {
    const { id, encodeId } = await readyVideo('public');
    const request = { videoId: id, encodeId, file: '180p/seg_00001.m4s' };
    for (let i = 0; i < 5; i++) await access.authorize(request);
    assert.equal(loads.get(id), 1);
    f.clock.advance(1001);
    await access.authorize(request);
    assert.equal(loads.get(id), 2);
  });

  it('a reprocess that just finished is granted at once, although the cached facts still name the old encode', async () => {
    const { id, encodeId: oldEncode } = await readyVideo('public');
    await access.authorize({ videoId: id, encodeId: oldEncode, file: 'master.m3u8' }); // cached: oldEncode served
    await f.db.updateTable('videos').set({ status: 'processing' }).where('id', '=', id).execute();
    await encodes.claimEncode(id, 'freshencode1');
    assert.deepEqual(await encodes.finishEncode(id, 'freshencode1', OUTPUTS, []), { replaced: oldEncode });

    // Same instant: the cached facts are within their second, yet the new encode is looked up afresh.
    const grant = await access.authorize({ videoId: id, encodeId: 'freshencode1', file: 'master.m3u8' });
    assert.deepEqual([grant.key, grant.final], [`videos/${id}/freshencode1/master.m3u8`, true]);
    // The fresh facts replaced the cached ones: the old encode is no longer served.
    await rejectsWith(
      access.authorize({ videoId: id, encodeId: oldEncode, file: 'master.m3u8' }),
      'MEDIA_NOT_FOUND',
    );
  });
});
