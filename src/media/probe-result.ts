/** What Reel keeps of an ffprobe run: the facts planning and validation need. */
export interface ProbeResult {
  container: string;
  durationSeconds: number;
  /** Overall bitrate in bits/s, when known. */
  bitrate: number | null;
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo | null;
  /** The raw ffprobe JSON, kept for operators. */
  raw: unknown;
}

export interface VideoStreamInfo {
  index: number;
  codec: string;
  /** Coded size, before rotation. */
  width: number;
  height: number;
  /** Clockwise rotation to apply for display: 0, 90, 180 or 270. */
  rotation: number;
  /** Size as displayed (width/height swapped when rotated by 90 or 270). */
  displayWidth: number;
  displayHeight: number;
  fps: number | null;
  pixelFormat: string | null;
  bitDepth: number;
  /** e.g. 'smpte2084' / 'arib-std-b67' for HDR, else null or 'bt709'. */
  colorTransfer: string | null;
  profile: string | null;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  channels: number;
  sampleRate: number;
}
