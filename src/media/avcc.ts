/*
 * Reading an H.264 output's profile and level from its 'avcC' box. ffprobe 5.1 reports neither for an
 * fMP4 init segment alone (they come from a parsed frame), and the master playlist's CODECS needs both.
 */

/** ffprobe's names of H.264 profile_idc values (constraint_set1 turns Baseline into Constrained Baseline). */
const AVC_PROFILE_NAMES: Readonly<Record<number, string>> = {
  66: 'Baseline',
  77: 'Main',
  88: 'Extended',
  100: 'High',
  110: 'High 10',
  122: 'High 4:2:2',
  244: 'High 4:4:4 Predictive',
};

/**
 * Profile (ffprobe's name) and level_idc from the first AVCDecoderConfigurationRecord ('avcC' box:
 * version 1, profile_idc, constraint flags, level_idc) in MP4 bytes; null when there is none. Pure.
 */
export function avcConfig(bytes: Uint8Array): { profile: string; levelIdc: number } | null {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = data.indexOf('avcC'); at >= 4; at = data.indexOf('avcC', at + 1)) {
    const size = data.readUInt32BE(at - 4); // the box: size, 'avcC', record (≥ 7 bytes)
    if (size < 15 || at - 4 + size > data.length || data[at + 4] !== 1) continue;
    const profileIdc = data[at + 5]!;
    const constrained = profileIdc === 66 && (data[at + 6]! & 0x40) !== 0;
    const name = constrained ? 'Constrained Baseline' : AVC_PROFILE_NAMES[profileIdc];
    return name ? { profile: name, levelIdc: data[at + 7]! } : null;
  }
  return null;
}
