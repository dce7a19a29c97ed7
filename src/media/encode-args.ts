import path from 'node:path';
import type { Rung } from './ladder.ts';
import type { ProbeResult, VideoStreamInfo } from './probe-result.ts';

/*
 * Pure ffmpeg argument building for the HLS ladder and the MP4 download (no I/O: a runner spawns
 * ffmpeg with these arrays, one token per element).
 *
 * Audio is a SEPARATE rendition (one AAC encode, one `audio/` media playlist, referenced from the master
 * through an EXT-X-MEDIA audio group), not muxed into every rung:
 * - the audio bytes are stored and encoded once instead of once per rung (muxed, a 5-rung ladder keeps
 *   4 redundant copies of 128 kbit/s: an estimated 5–10 % of a 1080p CRF ladder's bytes, not measured);
 * - switching quality never re-fetches or re-buffers audio;
 * - the usual argument for muxed audio, MP4-fallback players, does not apply: the MP4 download is its own
 *   file (buildMp4Args), and hls.js and Safari both play audio groups.
 * The cost is an EXT-X-MEDIA line in the master, which Reel writes itself (playlists.ts), and a BANDWIDTH
 * that must add the audio's peak to each variant's (the master writer does that).
 */

export const AUDIO_RENDITION = 'audio';
export const DEFAULT_SEGMENT_SECONDS = 6;
export const DEFAULT_KEYFRAME_SECONDS = 2;
export const DEFAULT_PRESET = 'veryfast';
/**
 * Measured by bench/transcode.ts on a 20-s 1080p30 clip (2 cores): superfast on the rungs below 720p
 * saves CPU where few viewers look; superfast on 720p as well cost −0.0046 SSIM and +3 % bytes there, so
 * 720p and up stay at the main preset, with ref=2:trellis=1 (+0.0009 SSIM at equal bytes for +3 % CPU).
 */
export const DEFAULT_LOW_RUNGS_PRESET = 'superfast';
export const HIGH_RUNG_X264_PARAMS = 'ref=2:trellis=1';
/** Rungs with a short side at least this large are "high". */
const HIGH_RUNG_SHORT_SIDE = 720;
export const DEFAULT_AUDIO_BITRATE_BPS = 128_000;
/** Every rung is H.264 High, 8-bit 4:2:0 (the profile x264 is told, and the one in the CODECS string). */
export const H264_PROFILE = 'High';
export const MEDIA_PLAYLIST_NAME = 'index.m3u8';
const SEGMENT_PATTERN = 'seg_%05d.m4s';
const HDR_TRANSFERS = new Set(['smpte2084', 'arib-std-b67']);

export interface EncodeArgsInput {
  /** Source file path or URL. */
  input: string;
  /** Directory that receives `<rung>/index.m3u8`, `<rung>/init_<rung>.mp4`, `<rung>/seg_00000.m4s`… */
  outputDir: string;
  probe: ProbeResult;
  rungs: readonly Rung[];
  /** HLS segment length; a whole multiple of keyframeSeconds. Default 6. */
  segmentSeconds?: number;
  /** Forced keyframe interval, the same in every rung so segments align. Default 2. */
  keyframeSeconds?: number;
  /** x264 preset of the rungs of 720p and up. Default 'veryfast' (≈ 2× the speed of 'medium', ≈ 11 % more bits). */
  preset?: string;
  /** x264 preset of the rungs below 720p. Default 'superfast'. */
  lowRungsPreset?: string;
  audioBitrateBps?: number;
  /** Tone-map PQ/HLG sources with zscale (needs an ffmpeg built with libzimg). Default true. */
  hdrToneMap?: boolean;
}

/**
 * The init segment name ffmpeg writes for a variant. With more than one variant stream ffmpeg 5.1 never
 * writes a literal `-hls_fmp4_init_filename init.mp4`: it appends the variant index (`init_0.mp4`) unless
 * the name contains `%v`. So Reel names it after the variant (`720p/init_720p.mp4`), in every case.
 */
export function initSegmentName(variant: string): string {
  return `init_${variant}.mp4`;
}

/** Whether the stream is PQ or HLG (HDR) and so needs tone mapping to SDR BT.709. */
export function isHdr(video: VideoStreamInfo): boolean {
  return video.colorTransfer !== null && HDR_TRANSFERS.has(video.colorTransfer);
}

/**
 * Filters that turn any source into SDR BT.709 for 8-bit 4:2:0 encoding, applied once before the split.
 * PQ (smpte2084) and HLG (arib-std-b67) sources are tone-mapped with zscale + tonemap (hable): ffmpeg 5.1
 * here is built with libzimg (`ffmpeg -filters` lists zscale). BT.2020 primaries and matrix are assumed
 * (the probe has no primaries/matrix fields; all practical PQ/HLG content uses them). Other 10-bit or
 * non-4:2:0 sources only need `format=yuv420p`, which each rung's chain ends with.
 * With `toneMap` false (an ffmpeg without zscale), HDR falls back to that plain conversion: it plays,
 * with washed-out colours. Cost, measured on this 2-core box: the chain alone takes ≈ 2.2 s per second
 * of 3840×2160 24 fps video (decoding alone ≈ 0.3 s), so 4K HDR sources encode well below realtime.
 */
export function sdrFilters(video: VideoStreamInfo, toneMap = true): string[] {
  if (!toneMap || !isHdr(video)) return [];
  return [
    `zscale=tin=${video.colorTransfer}:min=bt2020nc:pin=bt2020:rin=tv:t=linear:npl=100`,
    'format=gbrpf32le',
    'zscale=p=bt709',
    'tonemap=tonemap=hable:desat=0',
    'zscale=t=bt709:m=bt709:r=tv',
    'format=yuv420p',
  ];
}

/** `-var_stream_map`, built from the probe: `a:0` only when the source has audio (naming a missing stream fails). */
export function variantStreamMap(rungs: readonly Rung[], hasAudio: boolean): string {
  const variants = rungs.map((rung, i) => `v:${i},name:${rung.name}`);
  if (hasAudio) variants.push(`a:0,name:${AUDIO_RENDITION}`);
  return variants.join(' ');
}

/**
 * One decode, one split, one scale per rung: `[0:<video>]<fps>,<sdr>,split=N[s0]…;[s0]scale=…,format=yuv420p[v0];…`.
 * The fps filter and the tone mapping run once, before the split.
 */
export function ladderFilterGraph(probe: ProbeResult, rungs: readonly Rung[], toneMap = true): string {
  const video = requireVideo(probe);
  const shared = [...fpsFilters(rungs), ...sdrFilters(video, toneMap), `split=${rungs.length}`];
  const splitOutputs = rungs.map((_, i) => `[s${i}]`).join('');
  const head = `[0:${video.index}]${shared.join(',')}${splitOutputs}`;
  const chains = rungs.map(
    (rung, i) => `[s${i}]scale=w=${rung.width}:h=${rung.height},format=yuv420p[v${i}]`,
  );
  return [head, ...chains].join(';');
}

/** The ffmpeg arguments that encode every rung (and the audio rendition) in one process. */
export function buildEncodeArgs(params: EncodeArgsInput): string[] {
  const { input, probe, rungs } = params;
  requireVideo(probe);
  if (rungs.length === 0) throw new RangeError('buildEncodeArgs: no rungs to encode');
  const segmentSeconds = params.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS;
  const keyframeSeconds = params.keyframeSeconds ?? DEFAULT_KEYFRAME_SECONDS;
  checkSegmentTiming(segmentSeconds, keyframeSeconds);
  const toneMap = params.hdrToneMap ?? true;

  const args = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'warning', '-i', input];
  args.push('-filter_complex', ladderFilterGraph(probe, rungs, toneMap));
  for (let i = 0; i < rungs.length; i++) args.push('-map', `[v${i}]`);
  if (probe.audio) args.push('-map', `0:${probe.audio.index}`);
  args.push(...videoEncoderArgs(params, keyframeSeconds, toneMap));
  if (probe.audio) {
    const bitrate = String(params.audioBitrateBps ?? DEFAULT_AUDIO_BITRATE_BPS);
    args.push('-c:a', 'aac', '-profile:a', 'aac_low', '-b:a', bitrate, '-ac:a', '2', '-ar:a', '48000');
  }
  args.push(...hlsMuxerArgs(params, segmentSeconds));
  return args;
}

/** x264 for every rung: presets, closed GOPs with keyframes forced by time, capped CRF per rung. */
function videoEncoderArgs(params: EncodeArgsInput, keyframeSeconds: number, toneMap: boolean): string[] {
  const { rungs } = params;
  const video = requireVideo(params.probe);
  const args = ['-c:v', 'libx264', '-preset:v', params.preset ?? DEFAULT_PRESET];
  rungs.forEach((rung, i) => {
    // The top rung always counts as high: a small source's best picture gets the care.
    const high = Math.min(rung.width, rung.height) >= HIGH_RUNG_SHORT_SIDE || i === rungs.length - 1;
    if (high) args.push(`-x264-params:v:${i}`, HIGH_RUNG_X264_PARAMS);
    else args.push(`-preset:v:${i}`, params.lowRungsPreset ?? DEFAULT_LOW_RUNGS_PRESET);
  });
  args.push(
    '-profile:v',
    'high',
    // ffmpeg's libx264 wrapper turns open GOPs ON unless +cgop is set; closed GOPs make every segment
    // start with an IDR frame that needs nothing before it.
    '-flags:v',
    '+cgop',
    '-sc_threshold:v',
    '0',
    '-forced-idr:v',
    '1',
    // A GOP limit of twice the forced interval: x264 never adds an unforced keyframe of its own.
    '-g:v',
    String(Math.ceil(rungs[0]!.fps * keyframeSeconds) * 2),
    // By time, not frame count, so rungs stay aligned on variable-frame-rate sources.
    '-force_key_frames:v',
    `expr:gte(t,n_forced*${keyframeSeconds})`,
  );
  if (toneMap && isHdr(video)) {
    args.push('-color_primaries:v', 'bt709', '-color_trc:v', 'bt709', '-colorspace:v', 'bt709');
  }
  rungs.forEach((rung, i) => {
    args.push(
      `-crf:v:${i}`,
      String(rung.crf),
      `-maxrate:v:${i}`,
      String(rung.maxrateBps),
      `-bufsize:v:${i}`,
      String(rung.bufsizeBps),
      `-level:v:${i}`,
      String(rung.level),
    );
  });
  return args;
}

/** The HLS fMP4 muxer: one media playlist per variant, growing while encoding. */
function hlsMuxerArgs(params: EncodeArgsInput, segmentSeconds: number): string[] {
  const { outputDir, rungs } = params;
  const hasAudio = params.probe.audio !== null;
  const variants = rungs.length + (hasAudio ? 1 : 0);
  // With a single variant ffmpeg leaves `%v` unexpanded in the init name, so name it directly.
  const initName = variants > 1 ? initSegmentName('%v') : initSegmentName(rungs[0]!.name);
  return [
    '-f',
    'hls',
    '-hls_time',
    String(segmentSeconds),
    '-hls_list_size',
    '0',
    // EVENT: the media playlists grow while encoding, so the video plays before the encode ends.
    '-hls_playlist_type',
    'event',
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    initName,
    // temp_file: segments appear under their final name only once complete (safe to publish early).
    '-hls_flags',
    'independent_segments+temp_file',
    '-hls_segment_filename',
    path.join(outputDir, '%v', SEGMENT_PATTERN),
    '-var_stream_map',
    variantStreamMap(rungs, hasAudio),
    // No -master_pl_name: Reel writes the master itself, with measured bandwidths.
    '-progress',
    'pipe:1',
    '-nostats',
    path.join(outputDir, '%v', MEDIA_PLAYLIST_NAME),
  ];
}

/** The segment length must be a whole number of keyframe intervals, or segments would not align. */
export function checkSegmentTiming(segmentSeconds: number, keyframeSeconds: number): void {
  if (!(keyframeSeconds > 0) || !(segmentSeconds > 0)) {
    throw new RangeError(
      `segment (${segmentSeconds} s) and keyframe (${keyframeSeconds} s) intervals must be positive`,
    );
  }
  const ratio = segmentSeconds / keyframeSeconds;
  if (Math.abs(ratio - Math.round(ratio)) > 1e-9) {
    throw new RangeError(
      `segment duration ${segmentSeconds} s is not a multiple of the keyframe interval ${keyframeSeconds} s`,
    );
  }
}

/**
 * The rung the MP4 download copies: the largest whose short side is at most `maxShortSide` (720p), or
 * the smallest rung when none is that small.
 */
export function pickMp4Rung(rungs: readonly Rung[], maxShortSide = 720): Rung {
  if (rungs.length === 0) throw new RangeError('pickMp4Rung: no rungs');
  const short = (rung: Rung) => Math.min(rung.width, rung.height);
  const bySize = [...rungs].sort((a, b) => short(a) - short(b));
  const fitting = bySize.filter((rung) => short(rung) <= maxShortSide);
  return fitting.length > 0 ? fitting[fitting.length - 1]! : bySize[0]!;
}

export interface Mp4ArgsInput {
  /** The encode's output directory (the one given to buildEncodeArgs), after the encode has finished. */
  hlsDir: string;
  rungs: readonly Rung[];
  hasAudio: boolean;
  output: string;
}

/**
 * The MP4 download: a remux (`-c copy`, no second encode) of the best rung ≤ 720p and the audio
 * rendition from the finished HLS output into one progressive MP4 with the index up front (faststart).
 * The video is already H.264 High 8-bit with closed GOPs, so the copy plays wherever the HLS rung does.
 */
export function buildMp4Args({ hlsDir, rungs, hasAudio, output }: Mp4ArgsInput): string[] {
  const rung = pickMp4Rung(rungs);
  const args = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'warning'];
  args.push('-i', path.join(hlsDir, rung.name, MEDIA_PLAYLIST_NAME));
  if (hasAudio) args.push('-i', path.join(hlsDir, AUDIO_RENDITION, MEDIA_PLAYLIST_NAME));
  args.push('-map', '0:v:0');
  if (hasAudio) args.push('-map', '1:a:0');
  args.push('-c', 'copy', '-movflags', '+faststart', '-f', 'mp4', '-progress', 'pipe:1', '-nostats', output);
  return args;
}

function fpsFilters(rungs: readonly Rung[]): string[] {
  const first = rungs[0]!;
  if (rungs.some((rung) => rung.fps !== first.fps || rung.fpsFilter !== first.fpsFilter)) {
    throw new RangeError('all rungs of one encode must share a frame rate');
  }
  return first.fpsFilter === null ? [] : [`fps=${first.fpsFilter}`];
}

function requireVideo(probe: ProbeResult): VideoStreamInfo {
  if (!probe.video) throw new RangeError('the source has no video stream');
  return probe.video;
}
