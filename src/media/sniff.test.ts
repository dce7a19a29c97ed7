import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runFfmpeg } from '../../test/support/media.ts';
import {
  ALLOWED_EXTENSIONS,
  ALLOWED_MIME_TYPES,
  type ContainerFamily,
  extensionFamily,
  isAllowedUploadType,
  mimeTypeFamily,
  SNIFF_BYTES,
  sniffContainer,
} from './sniff.ts';

const picture = ['-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=25'];
const tone = ['-f', 'lavfi', '-i', 'sine=sample_rate=16000'];
const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

/** Tiny files written by ffmpeg's own muxers, with the family each must sniff as. */
const generated: { file: string; family: ContainerFamily | null; args: string[] }[] = [
  { file: 'a.mp4', family: 'isobmff', args: [...picture, ...x264, '-f', 'mp4'] },
  { file: 'a.mov', family: 'isobmff', args: [...picture, ...x264, '-f', 'mov'] },
  { file: 'a.3gp', family: 'isobmff', args: [...picture, ...tone, ...x264, '-c:a', 'aac', '-f', '3gp'] },
  { file: 'a.mkv', family: 'matroska', args: [...picture, ...x264, '-f', 'matroska'] },
  {
    file: 'a.webm',
    family: 'matroska',
    args: [...picture, '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-f', 'webm'],
  },
  { file: 'a.avi', family: 'avi', args: [...picture, '-c:v', 'mpeg4', '-f', 'avi'] },
  { file: 'a.ts', family: 'mpegts', args: [...picture, ...x264, '-f', 'mpegts'] },
  { file: 'a.m2ts', family: 'mpegts', args: [...picture, ...x264, '-f', 'mpegts', '-mpegts_m2ts_mode', '1'] },
  { file: 'a.mpg', family: 'mpegps', args: [...picture, '-c:v', 'mpeg2video', '-f', 'mpeg'] },
  { file: 'a.vob', family: 'mpegps', args: [...picture, '-c:v', 'mpeg2video', '-f', 'vob'] },
  { file: 'a.m1v', family: 'mpegvideo', args: [...picture, '-c:v', 'mpeg1video', '-f', 'mpeg1video'] },
  { file: 'a.flv', family: 'flv', args: [...picture, '-c:v', 'flv', '-f', 'flv'] },
  { file: 'a.wmv', family: 'asf', args: [...picture, '-c:v', 'wmv2', '-f', 'asf'] },
  // Not video containers Reel accepts:
  { file: 'a.wav', family: null, args: [...tone, '-f', 'wav'] },
  { file: 'a.mp3', family: null, args: [...tone, '-c:a', 'libmp3lame', '-f', 'mp3'] },
  { file: 'a.ogg', family: null, args: [...tone, '-c:a', 'libopus', '-f', 'ogg'] },
  { file: 'a.png', family: null, args: [...picture, '-frames:v', '1', '-c:v', 'png', '-f', 'image2'] },
  { file: 'a.gif', family: null, args: [...picture, '-f', 'gif'] },
];

describe('sniffContainer on ffmpeg-made files', () => {
  let dir: string;
  const heads = new Map<string, Uint8Array>();
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reel-sniff-'));
    await Promise.all(
      generated.map(async ({ file, args }) => {
        const output = path.join(dir, file);
        await runFfmpeg(['-v', 'error', ...args, '-t', '0.3', output]);
        heads.set(file, await readHead(output));
      }),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const { file, family } of generated) {
    test(`${file} → ${family}`, () => {
      const head = heads.get(file)!;
      assert.equal(head.length, SNIFF_BYTES);
      assert.equal(sniffContainer(head), family);
    });
  }
});

/** ISO-BMFF / QuickTime files that do not start with ftyp (old QuickTime, some cameras). */
const box = (size: number, type: string) => {
  const bytes = Buffer.alloc(16);
  bytes.writeUInt32BE(size, 0);
  bytes.write(type, 4, 'latin1');
  return bytes;
};

describe('sniffContainer on hand-made heads', () => {
  const cases: { name: string; head: Uint8Array; expected: ContainerFamily | null }[] = [
    ...['moov', 'mdat', 'free', 'skip', 'wide', 'pnot'].map((type) => ({
      name: `QuickTime starting with ${type}`,
      head: box(8, type),
      expected: 'isobmff' as const,
    })),
    { name: 'unknown box type', head: box(8, 'abcd'), expected: null },
    { name: 'empty', head: new Uint8Array(0), expected: null },
    { name: 'three bytes', head: Uint8Array.of(0x1a, 0x45, 0xdf), expected: null },
    { name: 'EBML magic alone', head: Uint8Array.of(0x1a, 0x45, 0xdf, 0xa3), expected: 'matroska' },
    { name: 'RIFF WAVE', head: Buffer.from('RIFF\0\0\0\0WAVEfmt '), expected: null },
    { name: "'FLV' text without version byte", head: Buffer.from('FLV is a format'), expected: null },
    { name: 'one TS sync byte only', head: tsLike(188, [0]), expected: null },
    { name: 'TS sync at 0 and 188', head: tsLike(189, [0, 188]), expected: 'mpegts' },
    { name: 'TS sync at 0 but not 188', head: tsLike(400, [0, 376]), expected: null },
    { name: 'M2TS sync at 4 and 196', head: tsLike(197, [4, 196]), expected: 'mpegts' },
    { name: 'text', head: Buffer.from('these are my holiday notes, not a video\n'), expected: null },
    { name: 'HTML', head: Buffer.from('<!doctype html><html><body>404</body></html>'), expected: null },
    { name: 'HLS playlist', head: Buffer.from('#EXTM3U\n#EXT-X-VERSION:3\n'), expected: null },
  ];
  for (const { name, head, expected } of cases) {
    test(`${name} → ${expected}`, () => assert.equal(sniffContainer(head), expected));
  }

  test('2000 pseudo-random heads → null', () => {
    let seed = Buffer.from('reel sniff');
    for (let i = 0; i < 2000; i++) {
      const head = Buffer.alloc(SNIFF_BYTES);
      for (let at = 0; at < SNIFF_BYTES; at += 32) {
        seed = createHash('sha256').update(seed).digest();
        seed.copy(head, at);
      }
      assert.equal(sniffContainer(head), null, head.subarray(0, 16).toString('hex'));
    }
  });
});

describe('upload allow-list', () => {
  test('extensions map to families, case-insensitively', () => {
    const expected: [string, ContainerFamily | null][] = [
      ['holiday.mp4', 'isobmff'],
      ['IMG_0001.MOV', 'isobmff'],
      ['a.m4v', 'isobmff'],
      ['phone.3gp', 'isobmff'],
      ['film.mkv', 'matroska'],
      ['clip.webm', 'matroska'],
      ['old.avi', 'avi'],
      ['broadcast.ts', 'mpegts'],
      ['camcorder.MTS', 'mpegts'],
      ['bluray.m2ts', 'mpegts'],
      ['dvd.mpeg', 'mpegps'],
      ['dvd.mpg', 'mpegps'],
      ['flash.flv', 'flv'],
      ['windows.wmv', 'asf'],
      ['my.video.final.mkv', 'matroska'],
      ['notes.txt', null],
      ['song.mp3', null],
      ['playlist.m3u8', null],
      ['mp4', null],
      ['', null],
      ['archive.mp4.exe', null],
    ];
    assert.deepEqual(
      expected.map(([name]) => [name, extensionFamily(name)]),
      expected,
    );
  });

  test('MIME types map to families; octet-stream and empty mean "sniff"', () => {
    const expected: [string, ContainerFamily | 'unknown' | null][] = [
      ['video/mp4', 'isobmff'],
      ['video/quicktime', 'isobmff'],
      ['video/x-m4v', 'isobmff'],
      ['video/3gpp', 'isobmff'],
      ['video/x-matroska', 'matroska'],
      ['video/webm; codecs="vp9, opus"', 'matroska'],
      ['video/x-msvideo', 'avi'],
      ['video/avi', 'avi'],
      ['video/mp2t', 'mpegts'],
      ['video/MP2T', 'mpegts'],
      ['video/vnd.dlna.mpeg-tts', 'mpegts'],
      ['video/mpeg', 'mpegps'],
      ['video/x-flv', 'flv'],
      ['video/x-ms-wmv', 'asf'],
      ['video/x-ms-asf', 'asf'],
      ['application/octet-stream', 'unknown'],
      ['', 'unknown'],
      ['audio/mpeg', null],
      ['image/png', null],
      ['text/plain', null],
      ['application/vnd.apple.mpegurl', null],
    ];
    assert.deepEqual(
      expected.map(([type]) => [type, mimeTypeFamily(type)]),
      expected,
    );
  });

  test('extension and MIME type must both be allowed, but need not agree', () => {
    assert.equal(isAllowedUploadType('clip.mp4', 'video/mp4'), true);
    assert.equal(isAllowedUploadType('renamed.mp4', 'video/x-matroska'), true);
    assert.equal(isAllowedUploadType('clip.mkv', 'application/octet-stream'), true);
    assert.equal(isAllowedUploadType('clip.mkv', 'text/plain'), false);
    assert.equal(isAllowedUploadType('clip.txt', 'video/mp4'), false);
  });

  test('the exported lists come from the one table', () => {
    assert.deepEqual(ALLOWED_EXTENSIONS, [
      'mp4',
      'mov',
      'm4v',
      '3gp',
      'mkv',
      'webm',
      'avi',
      'ts',
      'mts',
      'm2ts',
      'mpeg',
      'mpg',
      'flv',
      'wmv',
    ]);
    assert.deepEqual(ALLOWED_MIME_TYPES, [
      'video/mp4',
      'video/quicktime',
      'video/x-m4v',
      'video/3gpp',
      'video/x-matroska',
      'video/webm',
      'video/x-msvideo',
      'video/avi',
      'video/mp2t',
      'video/vnd.dlna.mpeg-tts',
      'video/mpeg',
      'video/x-flv',
      'video/x-ms-wmv',
      'video/x-ms-asf',
      'application/octet-stream',
    ]);
  });
});

function tsLike(length: number, syncAt: number[]): Uint8Array {
  const head = new Uint8Array(length);
  for (const at of syncAt) head[at] = 0x47;
  return head;
}

async function readHead(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
