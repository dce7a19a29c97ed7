import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeClip, makeFile, mediaTools, runFfmpeg, sha256File } from '../../test/support/media.ts';
import { AppError } from '../errors.ts';
import { resolveMediaTools } from './ffmpeg-binary.ts';
import { parseProbe, probeMedia, validateProbe } from './probe.ts';
import type { ProbeResult, VideoStreamInfo } from './probe-result.ts';

// Hand-written ffprobe output: numbers that ffprobe prints as strings are strings here too.
const h264 = (extra: Record<string, unknown> = {}) => ({
  index: 0,
  codec_name: 'h264',
  profile: 'High',
  codec_type: 'video',
  width: 1920,
  height: 1080,
  pix_fmt: 'yuv420p',
  color_transfer: 'bt709',
  r_frame_rate: '25/1',
  avg_frame_rate: '25/1',
  duration: '10.000000',
  bits_per_raw_sample: '8',
  disposition: { default: 1, attached_pic: 0 },
  ...extra,
});
const aac = (extra: Record<string, unknown> = {}) => ({
  index: 1,
  codec_name: 'aac',
  profile: 'LC',
  codec_type: 'audio',
  sample_rate: '48000',
  channels: 2,
  r_frame_rate: '0/0',
  avg_frame_rate: '0/0',
  duration: '10.000000',
  disposition: { default: 1, attached_pic: 0 },
  ...extra,
});
const mp4Format = (extra: Record<string, unknown> = {}) => ({
  format_name: 'mov,mp4,m4a,3gp,3g2,mj2',
  duration: '10.000000',
  bit_rate: '5000000',
  ...extra,
});
const displayMatrix = (rotation: number) => ({
  side_data_list: [{ side_data_type: 'Display Matrix', displaymatrix: '…', rotation }],
});

const landscapeVideo: VideoStreamInfo = {
  index: 0,
  codec: 'h264',
  width: 1920,
  height: 1080,
  rotation: 0,
  displayWidth: 1920,
  displayHeight: 1080,
  fps: 25,
  pixelFormat: 'yuv420p',
  bitDepth: 8,
  colorTransfer: 'bt709',
  profile: 'High',
};
const stereo = { index: 1, codec: 'aac', channels: 2, sampleRate: 48000 };
const portrait = { rotation: 90, displayWidth: 1080, displayHeight: 1920 };
const mp4Facts = { container: 'mov,mp4,m4a,3gp,3g2,mj2', durationSeconds: 10, bitrate: 5000000 };

const cases: { name: string; json: Record<string, unknown>; expected: Omit<ProbeResult, 'raw'> }[] = [
  {
    name: 'landscape H.264 + AAC in MP4',
    json: { streams: [h264(), aac()], format: mp4Format() },
    expected: {
      ...mp4Facts,
      video: landscapeVideo,
      audio: stereo,
    },
  },
  {
    name: 'display matrix -90 (phone portrait) → 90 clockwise, display size swapped',
    json: { streams: [h264(displayMatrix(-90)), aac()], format: mp4Format() },
    expected: {
      ...mp4Facts,
      video: { ...landscapeVideo, ...portrait },
      audio: stereo,
    },
  },
  {
    name: 'display matrix 90 → 270 clockwise',
    json: { streams: [h264(displayMatrix(90))], format: mp4Format() },
    expected: {
      ...mp4Facts,
      video: { ...landscapeVideo, rotation: 270, displayWidth: 1080, displayHeight: 1920 },
      audio: null,
    },
  },
  {
    name: 'display matrix -180 → 180, size not swapped',
    json: { streams: [h264(displayMatrix(-180))], format: mp4Format() },
    expected: {
      ...mp4Facts,
      video: { ...landscapeVideo, rotation: 180 },
      audio: null,
    },
  },
  {
    name: 'legacy tags.rotate=90 (ffprobe ≤ 4) is already clockwise',
    json: { streams: [h264({ tags: { rotate: '90' } }), aac()], format: mp4Format() },
    expected: {
      ...mp4Facts,
      video: { ...landscapeVideo, ...portrait },
      audio: stereo,
    },
  },
  {
    name: 'HEVC 10-bit HDR: depth from pix_fmt yuv420p10le, transfer smpte2084',
    json: {
      streams: [
        h264({
          codec_name: 'hevc',
          profile: 'Main 10',
          width: 3840,
          height: 2160,
          pix_fmt: 'yuv420p10le',
          color_transfer: 'smpte2084',
          bits_per_raw_sample: undefined,
          r_frame_rate: '60/1',
          avg_frame_rate: '60/1',
        }),
      ],
      format: mp4Format({ bit_rate: '40000000' }),
    },
    expected: {
      container: 'mov,mp4,m4a,3gp,3g2,mj2',
      durationSeconds: 10,
      bitrate: 40000000,
      video: {
        ...landscapeVideo,
        codec: 'hevc',
        profile: 'Main 10',
        width: 3840,
        height: 2160,
        displayWidth: 3840,
        displayHeight: 2160,
        fps: 60,
        pixelFormat: 'yuv420p10le',
        bitDepth: 10,
        colorTransfer: 'smpte2084',
      },
      audio: null,
    },
  },
  {
    name: '12-bit from bits_per_raw_sample, NTSC 30000/1001 fps, Matroska',
    json: {
      streams: [
        h264({
          pix_fmt: 'yuv422p12le',
          bits_per_raw_sample: '12',
          avg_frame_rate: '30000/1001',
          r_frame_rate: '30000/1001',
        }),
      ],
      format: { format_name: 'matroska,webm', duration: '10.010000', bit_rate: '8000000' },
    },
    expected: {
      container: 'matroska,webm',
      durationSeconds: 10.01,
      bitrate: 8000000,
      video: { ...landscapeVideo, pixelFormat: 'yuv422p12le', bitDepth: 12, fps: 30000 / 1001 },
      audio: null,
    },
  },
  {
    name: 'avg_frame_rate 0/0 falls back to r_frame_rate; no audio',
    json: { streams: [h264({ avg_frame_rate: '0/0', r_frame_rate: '24000/1001' })], format: mp4Format() },
    expected: {
      ...mp4Facts,
      video: { ...landscapeVideo, fps: 24000 / 1001 },
      audio: null,
    },
  },
  {
    name: 'both frame rates 0/0 → fps null',
    json: { streams: [h264({ avg_frame_rate: '0/0', r_frame_rate: '0/0' })], format: mp4Format() },
    expected: {
      ...mp4Facts,
      video: { ...landscapeVideo, fps: null },
      audio: null,
    },
  },
  {
    name: 'attached picture (cover art) before the real video is ignored',
    json: {
      streams: [
        h264({
          codec_name: 'mjpeg',
          width: 600,
          height: 600,
          disposition: { default: 0, attached_pic: 1 },
        }),
        h264({ index: 1 }),
        aac({ index: 2 }),
      ],
      format: mp4Format(),
    },
    expected: {
      ...mp4Facts,
      video: { ...landscapeVideo, index: 1 },
      audio: { ...stereo, index: 2 },
    },
  },
  {
    name: 'audio with cover art only → no video',
    json: {
      streams: [aac({ index: 0 }), h264({ index: 1, codec_name: 'png', disposition: { attached_pic: 1 } })],
      format: { format_name: 'mp3', duration: '180.024000', bit_rate: '320000' },
    },
    expected: {
      container: 'mp3',
      durationSeconds: 180.024,
      bitrate: 320000,
      video: null,
      audio: { ...stereo, index: 0 },
    },
  },
  {
    name: 'format without duration or bitrate: duration from the video stream',
    json: { streams: [h264({ duration: '4.004000' })], format: { format_name: 'mpegts' } },
    expected: {
      container: 'mpegts',
      durationSeconds: 4.004,
      bitrate: null,
      video: landscapeVideo,
      audio: null,
    },
  },
  {
    name: 'no duration anywhere → 0',
    json: { streams: [h264({ duration: undefined })], format: { format_name: 'png_pipe' } },
    expected: {
      container: 'png_pipe',
      durationSeconds: 0,
      bitrate: null,
      video: landscapeVideo,
      audio: null,
    },
  },
];

describe('parseProbe', () => {
  for (const { name, json, expected } of cases) {
    test(name, () => {
      const roundTripped: unknown = JSON.parse(JSON.stringify(json)); // drops the undefined fields
      assert.deepEqual(parseProbe(roundTripped), { ...expected, raw: roundTripped });
    });
  }

  test('output that is not ffprobe JSON → MEDIA_UNREADABLE', () => {
    for (const json of [null, 'text', [], {}]) {
      assert.throws(() => parseProbe(json), { code: 'MEDIA_UNREADABLE' });
    }
  });
});

describe('validateProbe', () => {
  const probe: ProbeResult = {
    container: 'mov,mp4,m4a,3gp,3g2,mj2',
    durationSeconds: 10,
    bitrate: 5000000,
    video: { ...landscapeVideo, ...portrait },
    audio: null,
    raw: {},
  };
  const limits = { maxDurationSeconds: 10, maxWidth: 1080, maxHeight: 1920 };

  test('within limits (display size, not coded size, is compared)', () => {
    validateProbe(probe, limits);
  });
  test('too long → MEDIA_TOO_LONG', () => {
    assert.throws(() => validateProbe(probe, { ...limits, maxDurationSeconds: 9 }), {
      code: 'MEDIA_TOO_LONG',
      message: 'The video lasts 0:00:10; the longest accepted is 0:00:09. Trim it or split it into parts.',
      details: { durationSeconds: 10, maxDurationSeconds: 9 },
    });
  });
  test('display size beyond limits → MEDIA_RESOLUTION_TOO_HIGH', () => {
    assert.throws(() => validateProbe(probe, { ...limits, maxWidth: 1920, maxHeight: 1080 }), {
      code: 'MEDIA_RESOLUTION_TOO_HIGH',
      message: 'The video is 1080×1920; the largest accepted is 1920×1080. Scale it down before uploading.',
      details: { width: 1080, height: 1920, maxWidth: 1920, maxHeight: 1080 },
    });
  });
});

describe('resolveMediaTools', () => {
  test('explicit paths win', () => {
    assert.deepEqual(resolveMediaTools({ ffmpegPath: '/usr/bin/ffmpeg', ffprobePath: '/usr/bin/ffprobe' }), {
      ffmpeg: '/usr/bin/ffmpeg',
      ffprobe: '/usr/bin/ffprobe',
    });
  });
  test('found on the search path', () => {
    assert.deepEqual(resolveMediaTools({ searchPath: `/nonexistent${path.delimiter}/usr/bin` }), {
      ffmpeg: '/usr/bin/ffmpeg',
      ffprobe: '/usr/bin/ffprobe',
    });
  });
  test('a configured path that is not executable is an error, not a silent fallback', () => {
    assert.throws(
      () => resolveMediaTools({ ffmpegPath: '/nonexistent/ffmpeg' }),
      /FFMPEG_PATH=\/nonexistent\/ffmpeg/,
    );
  });
  test('nothing found → tells how to install ffmpeg', () => {
    assert.throws(() => resolveMediaTools({ searchPath: '/nonexistent' }), /apt-get install ffmpeg/);
  });
});

describe('probeMedia on generated files', () => {
  let dir: string;
  let ffprobe: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reel-probe-'));
    ffprobe = mediaTools().ffprobe;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('default clip: 2 s 320×180 25 fps H.264 + mono AAC in MP4', async () => {
    const clip = await makeClip(dir);
    const probe = await probeMedia(ffprobe, clip);
    const { size } = await stat(clip);
    assert.deepEqual(
      { ...probe, raw: undefined },
      {
        container: 'mov,mp4,m4a,3gp,3g2,mj2',
        durationSeconds: 2,
        bitrate: Math.floor((size * 8) / 2),
        video: {
          index: 0,
          codec: 'h264',
          width: 320,
          height: 180,
          rotation: 0,
          displayWidth: 320,
          displayHeight: 180,
          fps: 25,
          pixelFormat: 'yuv420p',
          bitDepth: 8,
          colorTransfer: null,
          profile: 'Constrained Baseline',
        },
        audio: { index: 1, codec: 'aac', channels: 1, sampleRate: 48000 },
        raw: undefined,
      },
    );
  });

  test('rotated clips report clockwise rotation and swapped display size', async () => {
    for (const rotate of [90, 180, 270] as const) {
      const probe = await probeMedia(ffprobe, await makeClip(dir, { rotate, seconds: 1, audio: false }));
      const swapped = rotate !== 180;
      assert.deepEqual(
        [probe.video?.rotation, probe.video?.displayWidth, probe.video?.displayHeight],
        [rotate, swapped ? 180 : 320, swapped ? 320 : 180],
      );
    }
  });

  test('other containers', async () => {
    const expected = [
      { format: 'mkv', container: 'matroska,webm', codecs: ['h264', 'aac'] },
      { format: 'webm', container: 'matroska,webm', codecs: ['vp9', 'opus'] },
      { format: 'ts', container: 'mpegts', codecs: ['h264', 'aac'] },
      { format: 'mov', container: 'mov,mp4,m4a,3gp,3g2,mj2', codecs: ['h264', 'aac'] },
    ] as const;
    for (const { format, container, codecs } of expected) {
      const probe = await probeMedia(ffprobe, await makeClip(dir, { format, seconds: 1 }));
      assert.deepEqual([probe.container, probe.video?.codec, probe.audio?.codec], [container, ...codecs]);
      // Audio priming makes some containers a few frames longer than asked.
      assert.ok(
        probe.durationSeconds >= 1 && probe.durationSeconds < 1.05,
        `${format}: ${probe.durationSeconds}`,
      );
    }
  });

  test('a text file renamed .mp4 → MEDIA_UNREADABLE, stderr in details without the path', async () => {
    const file = await makeFile(dir, 'notes.mp4', Buffer.from('these are my holiday notes\n'));
    const error = await probeMedia(ffprobe, file).catch((e: unknown) => e);
    assert.ok(error instanceof AppError);
    assert.equal(error.code, 'MEDIA_UNREADABLE');
    assert.equal(error.httpStatus, 422);
    assert.doesNotMatch(error.message, /moov|Invalid data/);
    const { stderr, ...rest } = error.details ?? {};
    assert.deepEqual(rest, { reason: 'ffprobe-failed', exitCode: 1, signal: null });
    assert.match(
      String(stderr),
      /^\[mov,mp4,m4a,3gp,3g2,mj2 @ 0x[0-9a-f]+\] moov atom not found\n<input>: Invalid data found when processing input$/,
    );
  });

  test('test support: makeFile + sha256File', async () => {
    const file = await makeFile(dir, 'abc.bin', Buffer.from('abc'));
    assert.equal(await sha256File(file), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('a missing file → MEDIA_UNREADABLE', async () => {
    await assert.rejects(probeMedia(ffprobe, path.join(dir, 'missing.mp4')), {
      code: 'MEDIA_UNREADABLE',
      details: {
        reason: 'ffprobe-failed',
        exitCode: 1,
        signal: null,
        stderr: '<input>: No such file or directory',
      },
    });
  });

  const tone = ['-f', 'lavfi', '-i', 'sine=sample_rate=48000'];
  const red = ['-f', 'lavfi', '-i', 'color=red:size=64x64'];

  test('audio only, and audio with cover art → MEDIA_NO_VIDEO_STREAM', async () => {
    const audioOnly = path.join(dir, 'tone.m4a');
    await runFfmpeg(['-v', 'error', ...tone, '-t', '1', '-c:a', 'aac', audioOnly]);
    const withCover = path.join(dir, 'song.mp3');
    const streams = ['-map', '0:a', '-map', '1:v', '-frames:v', '1', '-t', '1'];
    const codecs = ['-c:a', 'libmp3lame', '-c:v', 'png', '-disposition:v:0', 'attached_pic'];
    await runFfmpeg(['-v', 'error', ...tone, ...red, ...streams, ...codecs, withCover]);
    for (const file of [audioOnly, withCover]) {
      const container = file === withCover ? 'mp3' : 'mov,mp4,m4a,3gp,3g2,mj2';
      await assert.rejects(probeMedia(ffprobe, file), {
        code: 'MEDIA_NO_VIDEO_STREAM',
        details: { container, hasAudio: true },
      });
    }
  });

  test('a still image renamed .mp4 → MEDIA_ZERO_DURATION', async () => {
    const still = path.join(dir, 'photo.mp4');
    await runFfmpeg(['-v', 'error', ...red, '-frames:v', '1', '-c:v', 'png', '-f', 'image2', still]);
    await assert.rejects(probeMedia(ffprobe, still), {
      code: 'MEDIA_ZERO_DURATION',
      details: { container: 'png_pipe' },
    });
  });

  test('validateProbe on a real probe', async () => {
    const probe = await probeMedia(ffprobe, await makeClip(dir));
    validateProbe(probe, { maxDurationSeconds: 2, maxWidth: 320, maxHeight: 180 });
    assert.throws(() => validateProbe(probe, { maxDurationSeconds: 1, maxWidth: 320, maxHeight: 180 }), {
      code: 'MEDIA_TOO_LONG',
    });
    assert.throws(() => validateProbe(probe, { maxDurationSeconds: 2, maxWidth: 319, maxHeight: 180 }), {
      code: 'MEDIA_RESOLUTION_TOO_HIGH',
    });
  });

  test('over http: probes a served clip; a stalled server is killed at the timeout', async () => {
    const clip = await makeClip(dir, { seconds: 1, name: 'served.mp4' });
    const server = http.createServer((req, res) => {
      if (req.url?.startsWith('/stall')) return; // never answers
      res.writeHead(200, { 'content-type': 'video/mp4' });
      createReadStream(clip).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const probe = await probeMedia(ffprobe, `${base}/served.mp4?signature=secret`);
      assert.equal(probe.durationSeconds, 1);
      const started = Date.now();
      await assert.rejects(probeMedia(ffprobe, `${base}/stall?signature=secret`, { timeoutMs: 300 }), {
        code: 'MEDIA_UNREADABLE',
        details: { reason: 'timeout', timeoutMs: 300, stderr: '' },
      });
      assert.ok(Date.now() - started < 2000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('an ffprobe that cannot be run is an operator error, not a media error', async () => {
    await assert.rejects(
      probeMedia(path.join(dir, 'no-ffprobe'), path.join(dir, 'x.mp4')),
      (error: unknown) => {
        assert.ok(!(error instanceof AppError));
        assert.match(String(error), /Could not run ffprobe/);
        return true;
      },
    );
  });
});
