import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canManageVideo, canUseUpload, canView, type VideoFacts, type Viewer } from './policy.ts';

const admin: Viewer = { kind: 'api-key', keyId: 'admin', role: 'admin' };
const owner: Viewer = { kind: 'api-key', keyId: 'owner', role: 'member' };
const other: Viewer = { kind: 'api-key', keyId: 'other', role: 'member' };
const token: Viewer = {
  kind: 'upload-token',
  tokenId: 't',
  apiKeyId: 'owner',
  role: 'member',
  uploadId: 'up1',
};
const otherToken: Viewer = {
  kind: 'upload-token',
  tokenId: 't2',
  apiKeyId: 'owner',
  role: 'member',
  uploadId: 'up2',
};
const signed: Viewer = { kind: 'signed-url', videoId: 'v1' };
const signedOther: Viewer = { kind: 'signed-url', videoId: 'v2' };

const video = (visibility: VideoFacts['visibility']): VideoFacts => ({
  id: 'v1',
  visibility,
  ownerKeyId: 'owner',
  uploadId: 'up1',
});

const viewers = { admin, owner, other, token, otherToken, signed, signedOther, anonymous: undefined };

describe('canView', () => {
  const table: Array<[keyof typeof viewers, onPublic: boolean, onUnlisted: boolean, onPrivate: boolean]> = [
    ['admin', true, true, true],
    ['owner', true, true, true],
    ['other', true, true, false],
    ['token', true, true, true],
    ['otherToken', true, true, false],
    ['signed', true, true, true],
    ['signedOther', true, true, false],
    ['anonymous', true, true, false],
  ];
  for (const [name, ...expected] of table) {
    test(name, () => {
      const actual = (['public', 'unlisted', 'private'] as const).map((v) =>
        canView(video(v), viewers[name]),
      );
      assert.deepEqual(actual, expected);
    });
  }
  test('a video without an owner is private to all but admins', () => {
    const orphan = { id: 'v1', visibility: 'private' as const, ownerKeyId: null, uploadId: null };
    assert.equal(canView(orphan, admin), true);
    assert.equal(canView(orphan, owner), false);
    assert.equal(canView(orphan, { ...token, uploadId: null }), false);
  });
});

describe('canManageVideo', () => {
  const table: Array<[keyof typeof viewers, boolean]> = [
    ['admin', true],
    ['owner', true],
    ['other', false],
    ['token', false], // upload tokens never manage videos, not even their own
    ['signed', false],
    ['anonymous', false],
  ];
  for (const [name, expected] of table) {
    test(name, () => {
      for (const visibility of ['public', 'unlisted', 'private'] as const) {
        assert.equal(canManageVideo(video(visibility), viewers[name]), expected, visibility);
      }
    });
  }
});

describe('canUseUpload', () => {
  const upload = { id: 'up1', ownerKeyId: 'owner' };
  const table: Array<[keyof typeof viewers, boolean]> = [
    ['admin', true],
    ['owner', true],
    ['other', false],
    ['token', true],
    ['otherToken', false],
    ['signed', false],
    ['anonymous', false],
  ];
  for (const [name, expected] of table) {
    test(name, () => assert.equal(canUseUpload(upload, viewers[name]), expected));
  }
  test('an upload without an owner: admins only', () => {
    assert.equal(canUseUpload({ id: 'up1', ownerKeyId: null }, owner), false);
    assert.equal(canUseUpload({ id: 'up1', ownerKeyId: null }, admin), true);
  });
});
