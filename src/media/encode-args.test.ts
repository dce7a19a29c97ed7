import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { makeClip, mediaTools, runFfmpeg } from '../../test/support/media.ts';
import {
  buildEncodeArgs,
  buildMp4Args,
  checkSegmentTiming,
  type EncodeArgsInput,
  initSegmentName,
  ladderFilterGraph,
  pickMp4Rung,
  variantStreamMap,
} from './encode-args.ts';
import { planLadder, type Rung } from './ladder.ts';
import { parseMediaPlaylist } from './playlists.ts';
import type { ProbeResult, VideoStreamInfo } from './probe-result.ts';

function probe(
  video: Partial<VideoStreamInfo> & { width: number; height: number },
  audio = true,
): ProbeResult {
  return {
    container: 'mov,mp4,m4a,3gp,3g2,mj2',
    durationSeconds: 2,
    bitrate: null,
    video: {
      index: 0,
      codec: 'h264',
      rotation: 0,
      displayWidth: video.width,
      displayHeight: video.height,
      fps: 30,
      pixelFormat: 'yuv420p',
      bitDepth: 8,
      colorTransfer: null,
      profile: 'High',
      ...video,
    },
    audio: audio ? { index: 1, codec: 'aac', channels: 2, sampleRate: 48000 } : null,
    raw: {},
  };
}

const HD = probe({ width: 1920, height: 1080 });
const HDR_4K = probe({ width: 3840, height: 2160, codec: 'hevc', fps: 24000 / 1001, bitDepth: 10 });
HDR_4K.video!.colorTransfer = 'smpte2084';
HDR_4K.video!.pixelFormat = 'yuv420p10le';

describe('buildEncodeArgs: exact argument arrays', () => {
  it('1920×1080 30 fps with audio: five rungs + one audio rendition', () => {
    const args = buildEncodeArgs({
      input: '/media/in/source.mov',
      outputDir: '/media/out',
      probe: HD,
      rungs: planLadder(HD),
    });
    assert.deepEqual(args, [
      '-hide_banner',
      '-nostdin',
      '-y',
      '-loglevel',
      'warning',
      '-i',
      '/media/in/source.mov',
      '-filter_complex',
      '[0:0]split=5[s0][s1][s2][s3][s4];' +
        '[s0]scale=w=426:h=240,format=yuv420p[v0];' +
        '[s1]scale=w=640:h=360,format=yuv420p[v1];' +
        '[s2]scale=w=854:h=480,format=yuv420p[v2];' +
        '[s3]scale=w=1280:h=720,format=yuv420p[v3];' +
        '[s4]scale=w=1920:h=1080,format=yuv420p[v4]',
      ...['-map', '[v0]', '-map', '[v1]', '-map', '[v2]', '-map', '[v3]', '-map', '[v4]', '-map', '0:1'],
      ...['-c:v', 'libx264', '-preset:v', 'veryfast'],
      ...['-preset:v:0', 'superfast', '-preset:v:1', 'superfast', '-preset:v:2', 'superfast'],
      ...['-x264-params:v:3', 'ref=2:trellis=1', '-x264-params:v:4', 'ref=2:trellis=1', '-profile:v', 'high'],
      ...['-flags:v', '+cgop', '-sc_threshold:v', '0', '-forced-idr:v', '1', '-g:v', '120'],
      ...['-force_key_frames:v', 'expr:gte(t,n_forced*2)'],
      ...['-crf:v:0', '23', '-maxrate:v:0', '400000', '-bufsize:v:0', '800000', '-level:v:0', '2.1'],
      ...['-crf:v:1', '23', '-maxrate:v:1', '800000', '-bufsize:v:1', '1600000', '-level:v:1', '3'],
      ...['-crf:v:2', '23', '-maxrate:v:2', '1500000', '-bufsize:v:2', '3000000', '-level:v:2', '3.1'],
      ...['-crf:v:3', '23', '-maxrate:v:3', '3000000', '-bufsize:v:3', '6000000', '-level:v:3', '3.1'],
      ...['-crf:v:4', '23', '-maxrate:v:4', '6000000', '-bufsize:v:4', '12000000', '-level:v:4', '4'],
      ...['-c:a', 'aac', '-profile:a', 'aac_low', '-b:a', '128000', '-ac:a', '2', '-ar:a', '48000'],
      ...['-f', 'hls', '-hls_time', '6', '-hls_list_size', '0', '-hls_playlist_type', 'event'],
      ...['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init_%v.mp4'],
      ...['-hls_flags', 'independent_segments+temp_file'],
      ...['-hls_segment_filename', '/media/out/%v/seg_%05d.m4s'],
      ...[
        '-var_stream_map',
        'v:0,name:240p v:1,name:360p v:2,name:480p v:3,name:720p v:4,name:1080p a:0,name:audio',
      ],
      ...['-progress', 'pipe:1', '-nostats', '/media/out/%v/index.m3u8'],
    ]);
  });

  it('1280×720 120 fps without audio: fps filter before the split, no a:0, custom timing and preset', () => {
    const source = probe({ width: 1280, height: 720, fps: 120 }, false);
    const args = buildEncodeArgs({
      input: 'in.mp4',
      outputDir: 'out',
      probe: source,
      rungs: planLadder(source),
      segmentSeconds: 4,
      keyframeSeconds: 2,
      preset: 'faster',
      lowRungsPreset: 'veryfast',
    });
    assert.deepEqual(args, [
      ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'warning', '-i', 'in.mp4'],
      '-filter_complex',
      '[0:0]fps=60,split=4[s0][s1][s2][s3];' +
        '[s0]scale=w=426:h=240,format=yuv420p[v0];' +
        '[s1]scale=w=640:h=360,format=yuv420p[v1];' +
        '[s2]scale=w=854:h=480,format=yuv420p[v2];' +
        '[s3]scale=w=1280:h=720,format=yuv420p[v3]',
      ...['-map', '[v0]', '-map', '[v1]', '-map', '[v2]', '-map', '[v3]'],
      ...['-c:v', 'libx264', '-preset:v', 'faster'],
      ...['-preset:v:0', 'veryfast', '-preset:v:1', 'veryfast', '-preset:v:2', 'veryfast'],
      ...['-x264-params:v:3', 'ref=2:trellis=1', '-profile:v', 'high'],
      ...['-flags:v', '+cgop', '-sc_threshold:v', '0', '-forced-idr:v', '1', '-g:v', '240'],
      ...['-force_key_frames:v', 'expr:gte(t,n_forced*2)'],
      ...['-crf:v:0', '23', '-maxrate:v:0', '400000', '-bufsize:v:0', '800000', '-level:v:0', '3'],
      ...['-crf:v:1', '23', '-maxrate:v:1', '800000', '-bufsize:v:1', '1600000', '-level:v:1', '3.1'],
      ...['-crf:v:2', '23', '-maxrate:v:2', '1500000', '-bufsize:v:2', '3000000', '-level:v:2', '3.1'],
      ...['-crf:v:3', '23', '-maxrate:v:3', '3000000', '-bufsize:v:3', '6000000', '-level:v:3', '3.2'],
      ...['-f', 'hls', '-hls_time', '4', '-hls_list_size', '0', '-hls_playlist_type', 'event'],
      ...['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init_%v.mp4'],
      ...['-hls_flags', 'independent_segments+temp_file'],
      ...['-hls_segment_filename', 'out/%v/seg_%05d.m4s'],
      ...['-var_stream_map', 'v:0,name:240p v:1,name:360p v:2,name:480p v:3,name:720p'],
      ...['-progress', 'pipe:1', '-nostats', 'out/%v/index.m3u8'],
    ]);
  });

  it('a single variant (tiny, silent) names its init segment directly: ffmpeg leaves %v unexpanded there', () => {
    const source = probe({ width: 160, height: 90 }, false);
    const args = buildEncodeArgs({
      input: 'in.mp4',
      outputDir: 'out',
      probe: source,
      rungs: planLadder(source),
    });
    assert.equal(args[args.indexOf('-hls_fmp4_init_filename') + 1], 'init_90p.mp4');
    assert.equal(args[args.indexOf('-var_stream_map') + 1], 'v:0,name:90p');
    assert.equal(
      args[args.indexOf('-filter_complex') + 1],
      '[0:0]split=1[s0];[s0]scale=w=160:h=90,format=yuv420p[v0]',
    );
  });

  it('maps the probed stream indexes, not the first of each type', () => {
    const source = {
      ...probe({ width: 640, height: 360, index: 2 }),
      audio: { index: 5, codec: 'opus', channels: 6, sampleRate: 48000 },
    };
    const args = buildEncodeArgs({
      input: 'in.mkv',
      outputDir: 'out',
      probe: source,
      rungs: planLadder(source),
    });
    assert.match(args[args.indexOf('-filter_complex') + 1]!, /^\[0:2\]split=2/);
    assert.equal(args[args.lastIndexOf('-map') + 1], '0:5');
  });
});

describe('colour handling', () => {
  it('PQ HDR (10-bit, smpte2084) is tone-mapped once with zscale before the split, and tagged BT.709', () => {
    const rungs = planLadder(HDR_4K);
    assert.equal(
      ladderFilterGraph(HDR_4K, rungs.slice(-2)),
      '[0:0]zscale=tin=smpte2084:min=bt2020nc:pin=bt2020:rin=tv:t=linear:npl=100,format=gbrpf32le,' +
        'zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p,split=2[s0][s1];' +
        '[s0]scale=w=2560:h=1440,format=yuv420p[v0];[s1]scale=w=3840:h=2160,format=yuv420p[v1]',
    );
    const args = buildEncodeArgs({ input: 'hdr.mov', outputDir: 'out', probe: HDR_4K, rungs });
    const at = args.indexOf('-color_primaries:v');
    const tags = '-color_primaries:v bt709 -color_trc:v bt709 -colorspace:v bt709';
    assert.equal(args.slice(at, at + 6).join(' '), tags);
    assert.deepEqual(
      rungs.map((r) => [r.name, r.fps, r.fpsFilter, r.level]),
      [
        ['240p', 24000 / 1001, null, 2.1],
        ['360p', 24000 / 1001, null, 3],
        ['480p', 24000 / 1001, null, 3], // 1620 MBs × 23.976 = 38 841 MB/s ≤ level 3's 40 500
        ['720p', 24000 / 1001, null, 3.1],
        ['1080p', 24000 / 1001, null, 4],
        ['1440p', 24000 / 1001, null, 5],
        ['2160p', 24000 / 1001, null, 5.1],
      ],
    );
  });

  it('HLG uses its own input transfer', () => {
    const hlg = probe({ width: 1920, height: 1080, bitDepth: 10, colorTransfer: 'arib-std-b67' });
    assert.match(ladderFilterGraph(hlg, planLadder(hlg)), /^\[0:0\]zscale=tin=arib-std-b67:min=bt2020nc:/);
  });

  it('10-bit SDR and HDR with tone mapping off only get the per-rung format=yuv420p', () => {
    const sdr10 = probe({
      width: 854,
      height: 480,
      pixelFormat: 'yuv420p10le',
      bitDepth: 10,
      colorTransfer: 'bt709',
    });
    // 854×480 is not exactly 16:9: 240 × 854 / 480 = 427 → 428 (even), not 426.
    const expected =
      '[0:0]split=3[s0][s1][s2];[s0]scale=w=428:h=240,format=yuv420p[v0];' +
      '[s1]scale=w=640:h=360,format=yuv420p[v1];[s2]scale=w=854:h=480,format=yuv420p[v2]';
    assert.equal(ladderFilterGraph(sdr10, planLadder(sdr10)), expected);
    const pq = probe({ width: 854, height: 480, bitDepth: 10, colorTransfer: 'smpte2084' });
    assert.equal(ladderFilterGraph(pq, planLadder(pq), false), expected);
    const args = buildEncodeArgs({
      input: 'i',
      outputDir: 'o',
      probe: pq,
      rungs: planLadder(pq),
      hdrToneMap: false,
    });
    assert.equal(args.includes('-color_primaries:v'), false);
  });
});

describe('variantStreamMap', () => {
  const rungs = planLadder(HD).slice(0, 2);
  it('names a:0 only when the source has audio', () => {
    assert.equal(variantStreamMap(rungs, true), 'v:0,name:240p v:1,name:360p a:0,name:audio');
    assert.equal(variantStreamMap(rungs, false), 'v:0,name:240p v:1,name:360p');
  });
});

describe('checkSegmentTiming', () => {
  // 'segment/keyframe' seconds
  for (const pair of ['6/2', '4/2', '2/2', '3/1.5']) {
    const [segment, keyframe] = pair.split('/').map(Number) as [number, number];
    it(`${segment} s segments on ${keyframe} s keyframes`, () => checkSegmentTiming(segment, keyframe));
  }
  for (const pair of ['5/2', '1/2', '6/0', '0/2']) {
    const [segmentSeconds, keyframeSeconds] = pair.split('/').map(Number) as [number, number];
    it(`rejects ${segmentSeconds} s segments on ${keyframeSeconds} s keyframes`, () => {
      assert.throws(() => checkSegmentTiming(segmentSeconds, keyframeSeconds), RangeError);
      const input = {
        input: 'i',
        outputDir: 'o',
        probe: HD,
        rungs: planLadder(HD),
        segmentSeconds,
        keyframeSeconds,
      };
      assert.throws(() => buildEncodeArgs(input), RangeError);
    });
  }
});

describe('MP4 download', () => {
  const ladder = (w: number, h: number) => planLadder(probe({ width: w, height: h }));
  it('picks the best rung not above 720p', () => {
    assert.equal(pickMp4Rung(ladder(3840, 2160)).name, '720p');
    assert.equal(pickMp4Rung(ladder(1080, 1920)).name, '720p');
    assert.equal(pickMp4Rung(ladder(1279, 719)).name, '480p');
    assert.equal(pickMp4Rung(ladder(160, 90)).name, '90p');
    const big = ladder(3840, 2160).slice(4);
    assert.equal(pickMp4Rung(big).name, '1080p');
  });

  it('remuxes that rung and the audio rendition with faststart', () => {
    const rungs = ladder(1920, 1080);
    assert.deepEqual(buildMp4Args({ hlsDir: '/out', rungs, hasAudio: true, output: '/out/download.mp4' }), [
      ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'warning'],
      ...['-i', '/out/720p/index.m3u8', '-i', '/out/audio/index.m3u8', '-map', '0:v:0', '-map', '1:a:0'],
      ...['-c', 'copy', '-movflags', '+faststart', '-f', 'mp4', '-progress', 'pipe:1', '-nostats'],
      '/out/download.mp4',
    ]);
    assert.deepEqual(buildMp4Args({ hlsDir: '/out', rungs, hasAudio: false, output: '/out/download.mp4' }), [
      ...[
        '-hide_banner',
        '-nostdin',
        '-y',
        '-loglevel',
        'warning',
        '-i',
        '/out/720p/index.m3u8',
        '-map',
        '0:v:0',
      ],
      ...['-c', 'copy', '-movflags', '+faststart', '-f', 'mp4', '-progress', 'pipe:1', '-nostats'],
      '/out/download.mp4',
    ]);
  });

  it('rejects rungs with different frame rates in one encode', () => {
    const rungs: Rung[] = planLadder(HD).slice(0, 2);
    rungs[1] = { ...rungs[1]!, fps: 60, fpsFilter: '60' };
    assert.throws(() => ladderFilterGraph(HD, rungs), RangeError);
  });
});

// ---------- the arguments as ffmpeg 5.1 here runs them ----------

const execFileAsync = promisify(execFile);

/** A 320×180 clip gets one rung from the default table; this table gives two, to exercise the split. */
const SMALL_LADDER = [
  { name: '120p', shortSide: 120, maxrateBps: 300_000 },
  { name: '180p', shortSide: 180, maxrateBps: 400_000 },
];

describe('ffmpeg runs the built arguments (2-s 320×180 lavfi clips)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reel-encode-args-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function encode(
    source: ProbeResult,
    input: string,
    name: string,
    timing: Partial<EncodeArgsInput> = {},
  ) {
    const outputDir = path.join(dir, name);
    const rungs = planLadder(source, { ladder: SMALL_LADDER });
    await runFfmpeg(buildEncodeArgs({ input, outputDir, probe: source, rungs, ...timing })); // rejects unless exit 0
    return { outputDir, rungs };
  }

  async function assertVariant(outputDir: string, variant: string) {
    const files = await readdir(path.join(outputDir, variant));
    assert.ok(files.includes('index.m3u8'), `${variant}: ${files.join(', ')}`);
    assert.ok(files.includes(initSegmentName(variant)), `${variant}: ${files.join(', ')}`);
    const segments = files.filter((f) => /^seg_\d{5}\.m4s$/.test(f));
    assert.ok(segments.length >= 1, `${variant}: ${files.join(', ')}`);
    const playlist = parseMediaPlaylist(await readFile(path.join(outputDir, variant, 'index.m3u8'), 'utf8'));
    assert.equal(playlist.type, 'EVENT');
    assert.equal(playlist.ended, true);
    assert.equal(playlist.mapUri, initSegmentName(variant));
    assert.deepEqual(playlist.segments.map((s) => s.uri).sort(), segments.sort());
    return playlist;
  }

  it('with audio: every rung and the audio rendition; rungs cut at the same times; the MP4 remux works', async () => {
    const input = await makeClip(dir, { seconds: 2, width: 320, height: 180, audio: true });
    const source = probe({ width: 320, height: 180, fps: 25 });
    const { outputDir, rungs } = await encode(source, input, 'with-audio', {
      segmentSeconds: 1,
      keyframeSeconds: 1,
    });
    const [low, high] = [await assertVariant(outputDir, '120p'), await assertVariant(outputDir, '180p')];
    await assertVariant(outputDir, 'audio');
    assert.deepEqual((await readdir(outputDir)).sort(), ['120p', '180p', 'audio']); // no master from ffmpeg
    assert.ok(low.segments.length >= 2);
    assert.deepEqual(
      low.segments.map((s) => s.duration),
      high.segments.map((s) => s.duration),
    );

    const output = path.join(dir, 'download.mp4');
    await runFfmpeg(buildMp4Args({ hlsDir: outputDir, rungs, hasAudio: true, output }));
    const { stdout } = await execFileAsync(mediaTools().ffprobe, [
      ...['-v', 'error', '-show_entries', 'stream=codec_type,width,height', '-of', 'json', output],
    ]);
    const streams = JSON.parse(stdout).streams as Array<{ codec_type: string; width?: number }>;
    assert.equal(streams.map((s) => `${s.codec_type}:${s.width ?? '-'}`).join(' '), 'video:320 audio:-');
    assert.ok((await stat(output)).size > 0);
  });

  it('without audio: no audio rendition (a:0 would make ffmpeg fail)', async () => {
    const input = await makeClip(dir, { seconds: 2, width: 320, height: 180, audio: false });
    const source = probe({ width: 320, height: 180, fps: 25 }, false);
    const { outputDir } = await encode(source, input, 'silent');
    await assertVariant(outputDir, '120p');
    await assertVariant(outputDir, '180p');
    assert.deepEqual((await readdir(outputDir)).sort(), ['120p', '180p']);
  });

  it('10-bit PQ HDR: the zscale tone-mapping chain runs and the rungs come out 8-bit BT.709', async () => {
    const input = path.join(dir, 'hdr.mp4');
    const lavfi = '-hide_banner -v error -y -f lavfi -i testsrc2=size=320x180:rate=25:duration=1';
    const x265 = '-vf format=yuv420p10le -c:v libx265 -x265-params log-level=error';
    const pq = '-color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc';
    await runFfmpeg([...`${lavfi} ${x265} ${pq}`.split(' '), input]);
    const source = probe(
      { width: 320, height: 180, fps: 25, codec: 'hevc', bitDepth: 10, colorTransfer: 'smpte2084' },
      false,
    );
    const { outputDir } = await encode(source, input, 'hdr');
    await assertVariant(outputDir, '180p');
    const { stdout } = await execFileAsync(mediaTools().ffprobe, [
      ...['-v', 'error', '-show_entries', 'stream=pix_fmt,color_transfer,profile', '-of', 'json'],
      path.join(outputDir, '180p', 'index.m3u8'),
    ]);
    assert.deepEqual(JSON.parse(stdout).streams, [
      { profile: 'High', pix_fmt: 'yuv420p', color_transfer: 'bt709' },
    ]);
  });
});
