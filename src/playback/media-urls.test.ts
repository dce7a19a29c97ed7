import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mediaFileKind, mediaPath, storageKeyForMedia } from './media-urls.ts';

describe('mediaFileKind', () => {
  const valid: Array<[string, string, boolean]> = [
    ['master.m3u8', 'application/vnd.apple.mpegurl', true],
    ['720p/index.m3u8', 'application/vnd.apple.mpegurl', true],
    ['720p/init_720p.mp4', 'video/mp4', false],
    ['720p/seg_00001.m4s', 'video/mp4', false],
    ['audio/seg_00001.m4s', 'video/mp4', false],
    ['download.mp4', 'video/mp4', false],
    ['poster_640.jpg', 'image/jpeg', false],
    ['storyboard.jpg', 'image/jpeg', false],
    ['storyboard.vtt', 'text/vtt; charset=utf-8', true],
    ['captions/en-US.vtt', 'text/vtt; charset=utf-8', true],
  ];
  for (const [file, contentType, text] of valid) {
    it(`${file}: ${contentType}`, () => {
      assert.deepEqual(
        { contentType: mediaFileKind(file)?.contentType, text: mediaFileKind(file)?.text },
        { contentType, text },
      );
    });
  }
  const invalid = [
    '',
    '../master.m3u8',
    '720p/../../etc/passwd',
    '/etc/passwd',
    'a/b/c.m4s',
    '720p//seg.m4s',
    'master.m3u8.bak',
    'source.mov',
    '.m3u8',
    'seg 1.m4s',
    'seg%2F1.m4s',
    '720p\\seg.m4s',
  ];
  for (const file of invalid) {
    it(`refuses ${JSON.stringify(file)}`, () => assert.equal(mediaFileKind(file), undefined));
  }
});

describe('paths', () => {
  it('URL path and storage key mirror each other', () => {
    assert.equal(mediaPath('v', 'e', '720p/seg_00000.m4s'), '/media/v/e/720p/seg_00000.m4s');
    assert.equal(storageKeyForMedia('v', 'e', '720p/seg_00000.m4s'), 'videos/v/e/720p/seg_00000.m4s');
  });
});
