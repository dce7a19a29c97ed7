import { AUDIO_RENDITION, H264_PROFILE } from '../media/encode-args.ts';
import type { Rung } from '../media/ladder.ts';
import { avc1CodecString, measureBandwidth, writeMasterPlaylist } from '../media/playlists.ts';
import type { Rendition } from '../platform/db/schema.ts';
import type { PublishedVariant } from './hls-publisher.ts';

/**
 * The ladder as published so far, bandwidths measured from the segments in storage. `codecs`: measured
 * from the output; until then, what the encoder was told (High at the planned level).
 */
export function renditionsOf(
  rungs: Rung[],
  variants: PublishedVariant[],
  codecs: Map<string, string> | null,
): Rendition[] {
  return rungs.map((rung) => {
    const variant = variants.find((v) => v.name === rung.name);
    const { peakBps, averageBps } = bandwidthOf(variant);
    return {
      name: rung.name,
      width: rung.width,
      height: rung.height,
      frameRate: rung.fps,
      bandwidth: peakBps,
      averageBandwidth: averageBps,
      codecs: codecs?.get(rung.name) ?? avc1CodecString(H264_PROFILE, rung.level),
    };
  });
}

/** The master playlist Reel writes itself (ffmpeg's own has unusable BANDWIDTH values). */
export function masterPlaylistOf(renditions: Rendition[], variants: PublishedVariant[]): string {
  const audio = variants.find((v) => v.name === AUDIO_RENDITION);
  const audioBandwidth = audio ? bandwidthOf(audio) : undefined;
  return writeMasterPlaylist(
    renditions.map((r) => ({
      uri: `${r.name}/index.m3u8`,
      bandwidth: r.bandwidth,
      averageBandwidth: r.averageBandwidth,
      width: r.width,
      height: r.height,
      frameRate: r.frameRate,
      codecs: r.codecs,
    })),
    audio && audioBandwidth
      ? {
          uri: `${AUDIO_RENDITION}/index.m3u8`,
          bandwidth: audioBandwidth.peakBps,
          averageBandwidth: audioBandwidth.averageBps,
        }
      : undefined,
  );
}

function bandwidthOf(variant: PublishedVariant | undefined) {
  const segments = (variant?.playlist?.segments ?? []).map((s) => ({
    bytes: variant?.segmentBytes.get(s.uri) ?? 0,
    durationSeconds: s.duration,
  }));
  return measureBandwidth(segments, variant?.playlist?.targetDuration ?? undefined);
}
