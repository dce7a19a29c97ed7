import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFileKey, encodePrefix, sourceKey, videoPrefix } from './storage-layout.ts';

test('storage keys: sources by upload, encodes by video and encode id', () => {
  assert.equal(sourceKey('up1', 'mp4'), 'sources/up1/original.mp4');
  assert.equal(videoPrefix('v1'), 'videos/v1/');
  assert.equal(encodePrefix('v1', 'e1'), 'videos/v1/e1/');
  assert.equal(encodeFileKey('v1', 'e1', '720p/seg_00001.m4s'), 'videos/v1/e1/720p/seg_00001.m4s');
  assert.ok(encodeFileKey('v1', 'e1', 'x').startsWith(encodePrefix('v1', 'e1')));
  assert.ok(encodePrefix('v1', 'e1').startsWith(videoPrefix('v1')));
});
