/*
 * Pure HLS playlist text: the master (multivariant) playlist Reel writes itself, codec strings, measured
 * bandwidths, and the media-playlist helpers used while a video is still encoding (RFC 8216).
 */

export interface MasterVariant {
  /** Media playlist URI, relative to the master: '720p/index.m3u8'. */
  uri: string;
  /** Peak segment bit rate of this variant's own media playlist, bits/s (see measureBandwidth). */
  bandwidth: number;
  /** Average bit rate of this variant's own media playlist, bits/s. */
  averageBandwidth: number;
  width: number;
  height: number;
  frameRate: number;
  /** This playlist's codecs: 'avc1.64001f', or 'avc1.64001f,mp4a.40.2' for muxed audio. */
  codecs: string;
}

export interface MasterAudio {
  uri: string;
  bandwidth: number;
  averageBandwidth: number;
  /** Default 'mp4a.40.2' (AAC-LC). */
  codecs?: string;
  /** Default 'audio'. */
  groupId?: string;
  /** Default 'Default'. */
  name?: string;
  /** BCP 47, e.g. 'en'. */
  language?: string;
  /** Default 2. */
  channels?: number;
}

/**
 * The master playlist. With an audio rendition, every variant references its group, and its BANDWIDTH,
 * AVERAGE-BANDWIDTH and CODECS describe the whole playable combination (video + audio, RFC 8216
 * §4.3.4.2): the audio's bit rates are added and its codec appended. Variants are sorted by BANDWIDTH,
 * ascending. Version 7 as ffmpeg's fMP4 media playlists (EXT-X-MAP without I-frames needs ≥ 6).
 */
export function writeMasterPlaylist(variants: readonly MasterVariant[], audio?: MasterAudio): string {
  if (variants.length === 0) throw new RangeError('writeMasterPlaylist: no variants');
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const groupId = audio?.groupId ?? 'audio';
  const audioCodecs = audio?.codecs ?? 'mp4a.40.2';
  if (audio) {
    const attributes = [
      'TYPE=AUDIO',
      `GROUP-ID=${quoted(groupId)}`,
      `NAME=${quoted(audio.name ?? 'Default')}`,
      ...(audio.language ? [`LANGUAGE=${quoted(audio.language)}`] : []),
      'DEFAULT=YES',
      'AUTOSELECT=YES',
      `CHANNELS=${quoted(String(audio.channels ?? 2))}`,
      `URI=${quoted(audio.uri)}`,
    ];
    lines.push(`#EXT-X-MEDIA:${attributes.join(',')}`);
  }
  const entries = variants.map((variant) => {
    const codecs = variant.codecs.split(',').map((c) => c.trim());
    if (audio && !codecs.includes(audioCodecs)) codecs.push(audioCodecs);
    return {
      variant,
      bandwidth: Math.ceil(variant.bandwidth + (audio?.bandwidth ?? 0)),
      averageBandwidth: Math.ceil(variant.averageBandwidth + (audio?.averageBandwidth ?? 0)),
      codecs: codecs.join(','),
    };
  });
  entries.sort((a, b) => a.bandwidth - b.bandwidth);
  for (const { variant, bandwidth, averageBandwidth, codecs } of entries) {
    const attributes = [
      `BANDWIDTH=${bandwidth}`,
      `AVERAGE-BANDWIDTH=${averageBandwidth}`,
      `CODECS=${quoted(codecs)}`,
      `RESOLUTION=${variant.width}x${variant.height}`,
      `FRAME-RATE=${variant.frameRate.toFixed(3)}`,
      ...(audio ? [`AUDIO=${quoted(groupId)}`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, uriLine(variant.uri));
  }
  return `${lines.join('\n')}\n`;
}

/** profile_idc and the constraint-flag byte x264 writes for each profile (as ffprobe names them). */
const AVC_PROFILES: Readonly<Record<string, readonly [profileIdc: number, constraints: number]>> = {
  Baseline: [66, 0xc0],
  'Constrained Baseline': [66, 0xc0],
  Main: [77, 0x40],
  High: [100, 0x00],
  'High 10': [110, 0x00],
  'High 4:2:2': [122, 0x00],
  'High 4:4:4 Predictive': [244, 0x00],
};

/**
 * RFC 6381 codec string for H.264: 'avc1.' + profile_idc, constraint flags, level_idc in hex —
 * High@3.1 → 'avc1.64001f', Main@4.0 → 'avc1.4d4028'. `level` as 3.1 or as level_idc 31.
 */
export function avc1CodecString(profile: string, level: number): string {
  const entry = AVC_PROFILES[profile];
  if (!entry) throw new RangeError(`avc1CodecString: unknown H.264 profile '${profile}'`);
  const levelIdc = level < 10 ? Math.round(level * 10) : Math.round(level);
  if (!(levelIdc > 0 && levelIdc < 256)) throw new RangeError(`avc1CodecString: invalid level ${level}`);
  return `avc1.${[entry[0], entry[1], levelIdc].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

export interface SegmentSize {
  bytes: number;
  durationSeconds: number;
}

/**
 * Measured bit rates of a media playlist's segments, bits/s (rounded up).
 * average = total bits / total duration. peak = RFC 8216's peak segment bit rate: the highest rate of
 * any run of consecutive segments lasting 0.5–1.5 × the target duration. With equal segments that is
 * max(bytes × 8 / duration) over single segments; the window keeps a short last segment (say 0.2 s of a
 * 6 s ladder) from reporting an absurd peak. When no run qualifies (a very short video) peak = average.
 * `targetDurationSeconds` defaults to the longest segment rounded up, as EXT-X-TARGETDURATION is.
 */
export function measureBandwidth(
  segments: readonly SegmentSize[],
  targetDurationSeconds?: number,
): { peakBps: number; averageBps: number } {
  const totalBytes = segments.reduce((sum, s) => sum + s.bytes, 0);
  const totalSeconds = segments.reduce((sum, s) => sum + s.durationSeconds, 0);
  if (!(totalSeconds > 0)) return { peakBps: 0, averageBps: 0 };
  const averageBps = Math.ceil((totalBytes * 8) / totalSeconds);
  const target = targetDurationSeconds ?? Math.ceil(Math.max(...segments.map((s) => s.durationSeconds)));
  let peak = 0;
  for (let start = 0; start < segments.length; start++) {
    let bytes = 0;
    let seconds = 0;
    for (let end = start; end < segments.length; end++) {
      bytes += segments[end]!.bytes;
      seconds += segments[end]!.durationSeconds;
      if (seconds > 1.5 * target + 1e-9) break;
      if (seconds >= 0.5 * target - 1e-9) peak = Math.max(peak, (bytes * 8) / seconds);
    }
  }
  return { peakBps: peak > 0 ? Math.ceil(peak) : averageBps, averageBps };
}

export interface MediaPlaylist {
  version: number | null;
  targetDuration: number | null;
  mediaSequence: number;
  /** EXT-X-PLAYLIST-TYPE, or null when absent (a live playlist). */
  type: 'EVENT' | 'VOD' | null;
  /** EXT-X-MAP URI (the fMP4 init segment). */
  mapUri: string | null;
  segments: Array<{ uri: string; duration: number }>;
  /** EXT-X-ENDLIST seen: no more segments will be added. */
  ended: boolean;
}

/** Reads a media playlist (as ffmpeg's hls muxer writes them). Throws when the text is not a playlist. */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = splitLines(text);
  if (lines[0] !== '#EXTM3U') throw new RangeError('parseMediaPlaylist: missing #EXTM3U header');
  const playlist: MediaPlaylist = {
    version: null,
    targetDuration: null,
    mediaSequence: 0,
    type: null,
    mapUri: null,
    segments: [],
    ended: false,
  };
  let pendingDuration: number | null = null;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (!line.startsWith('#')) {
      if (pendingDuration === null) throw new RangeError(`parseMediaPlaylist: '${line}' has no #EXTINF`);
      playlist.segments.push({ uri: line, duration: pendingDuration });
      pendingDuration = null;
      continue;
    }
    const [tag, value = ''] = splitTag(line);
    if (tag === '#EXTINF') pendingDuration = Number.parseFloat(value.split(',')[0]!);
    else if (tag === '#EXT-X-VERSION') playlist.version = Number.parseInt(value, 10);
    else if (tag === '#EXT-X-TARGETDURATION') playlist.targetDuration = Number.parseInt(value, 10);
    else if (tag === '#EXT-X-MEDIA-SEQUENCE') playlist.mediaSequence = Number.parseInt(value, 10);
    else if (tag === '#EXT-X-PLAYLIST-TYPE') playlist.type = value === 'VOD' ? 'VOD' : 'EVENT';
    else if (tag === '#EXT-X-MAP') playlist.mapUri = /(?:^|,)URI="([^"]*)"/.exec(value)?.[1] ?? null;
    else if (tag === '#EXT-X-ENDLIST') playlist.ended = true;
  }
  return playlist;
}

/**
 * Turns a finished EVENT playlist into a VOD one: EXT-X-PLAYLIST-TYPE:VOD (replacing EVENT, or added
 * after EXT-X-TARGETDURATION) and a final EXT-X-ENDLIST. Everything else is kept as it is.
 */
export function toVodPlaylist(text: string): string {
  const lines = splitLines(text);
  if (lines[0] !== '#EXTM3U') throw new RangeError('toVodPlaylist: missing #EXTM3U header');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const typeIndex = lines.findIndex((line) => line.startsWith('#EXT-X-PLAYLIST-TYPE:'));
  if (typeIndex >= 0) {
    lines[typeIndex] = '#EXT-X-PLAYLIST-TYPE:VOD';
  } else {
    const after = lines.findIndex((line) => line.startsWith('#EXT-X-TARGETDURATION:'));
    lines.splice(after >= 0 ? after + 1 : 1, 0, '#EXT-X-PLAYLIST-TYPE:VOD');
  }
  if (!lines.includes('#EXT-X-ENDLIST')) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

function splitLines(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line) => line.trim());
}

function splitTag(line: string): [string, string?] {
  const colon = line.indexOf(':');
  return colon < 0 ? [line] : [line.slice(0, colon), line.slice(colon + 1)];
}

/** A quoted-string attribute value: no double quote, CR or LF allowed (RFC 8216 §4.2). */
function quoted(value: string): string {
  if (/["\r\n]/.test(value)) throw new RangeError(`invalid HLS attribute value: ${JSON.stringify(value)}`);
  return `"${value}"`;
}

function uriLine(uri: string): string {
  if (uri === '' || /[\r\n]/.test(uri) || uri.startsWith('#')) {
    throw new RangeError(`invalid playlist URI: ${JSON.stringify(uri)}`);
  }
  return uri;
}
