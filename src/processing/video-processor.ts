import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  type EncodeOutputs,
  encodePrefix,
  type Rendition,
  type VideoRepository,
} from '../catalog/video-repository.ts';
import type { ProcessingConfig } from '../config.ts';
import { AppError, errors } from '../errors.ts';
import {
  AUDIO_RENDITION,
  buildEncodeArgs,
  buildMp4Args,
  H264_PROFILE,
  MEDIA_PLAYLIST_NAME,
  pickMp4Rung,
} from '../media/encode-args.ts';
import type { MediaTools } from '../media/ffmpeg-binary.ts';
import { classifyFfmpegFailure, FfmpegError, probeOutputCodec, runFfmpeg } from '../media/ffmpeg-runner.ts';
import { planLadder, type Rung } from '../media/ladder.ts';
import { avc1CodecString, measureBandwidth, writeMasterPlaylist } from '../media/playlists.ts';
import { parseProbe } from '../media/probe.ts';
import type { ProbeResult } from '../media/probe-result.ts';
import { makePoster, makeStoryboard } from '../media/thumbnails.ts';
import { newId } from '../platform/ids.ts';
import type { JobContext } from '../platform/queue/job-queue.ts';
import { BlobNotFoundError, type BlobStore } from '../platform/storage/blob-store.ts';
import { HlsPublisher } from './hls-publisher.ts';
import { ProgressTracker } from './progress.ts';

export interface VideoProcessorDeps {
  videos: VideoRepository;
  store: BlobStore;
  tools: MediaTools;
  config: ProcessingConfig;
  retryLimit: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

const MASTER = 'master.m3u8';
const POSTER_WIDTHS = [1280, 640];

/**
 * The `video.process` job: one ffmpeg pass to an aligned HLS ladder published while it encodes,
 * then the master playlist with measured bandwidths, poster, storyboard and MP4 download.
 */
export class VideoProcessor {
  readonly #deps: VideoProcessorDeps;

  constructor(deps: VideoProcessorDeps) {
    this.#deps = deps;
  }

  async handle(data: { videoId: string }, context: JobContext): Promise<void> {
    const { videos, store, log } = this.#deps;
    const video = await videos.find(data.videoId);
    if (!video || video.status === 'deleted') return;
    if (video.status !== 'processing') return; // already done: a job runs to `ready` exactly once

    const encodeId = newId();
    const claim = await videos.claimEncode(video.id, encodeId);
    if (!claim) return;
    if (claim.abandoned) {
      // A dead attempt's partial output is discarded, never mixed in.
      await store.deletePrefix(encodePrefix(video.id, claim.abandoned));
    }
    // One directory per attempt; removing the video's older ones also stops an orphaned ffmpeg of a
    // killed process, which fails as soon as its output directory is gone.
    const videoWorkDir = path.join(this.#deps.config.workDir, video.id);
    await fs.rm(videoWorkDir, { recursive: true, force: true });
    const workDir = path.join(videoWorkDir, encodeId);
    await fs.mkdir(workDir, { recursive: true });
    const prefix = encodePrefix(video.id, encodeId);
    log.info({ videoId: video.id, encodeId, attempt: context.retryCount }, 'processing video');
    try {
      const probe = parseProbe(video.probe);
      const outputs = await this.#encode(
        video.id,
        encodeId,
        probe,
        video.source_key,
        workDir,
        context.signal,
      );
      const finished = await videos.finishEncode(video.id, encodeId, outputs.outputs, outputs.renditions);
      if (!finished) {
        await store.deletePrefix(prefix); // deleted or superseded meanwhile: leave no orphans
        return;
      }
      if (finished.replaced) await store.deletePrefix(encodePrefix(video.id, finished.replaced));
      log.info({ videoId: video.id, encodeId }, 'video ready');
    } catch (error) {
      const current = await videos.findSummary(video.id).catch(() => null);
      if (current === undefined || current?.status === 'deleted') {
        // Deleted meanwhile, source included: not a failure of the media, and nothing to retry.
        log.info({ videoId: video.id, encodeId, err: error }, 'video deleted while processing: job stopped');
        await store.deletePrefix(prefix).catch(() => {});
        return;
      }
      // A missing source is no media error: ffmpeg reports it as "No such file or directory" (local)
      // or an HTTP 404 (presigned URL), so ask the store. Retried (storage may lag), then failed.
      const sourceMissing = await this.#sourceMissing(video.source_key, error);
      const failure = sourceMissing ? undefined : this.#permanent(error);
      const lastAttempt = context.retryCount >= this.#deps.retryLimit;
      if (failure || lastAttempt) {
        const reason = failure ?? {
          error: errors.processingFailed(
            `Processing failed after ${context.retryCount + 1} attempts: ${
              sourceMissing ? 'source missing' : (error as Error).message
            }`,
          ),
          log: error instanceof FfmpegError ? error.stderrTail : null,
        };
        log.warn(
          { videoId: video.id, code: reason.error.code, sourceKey: video.source_key, err: error },
          'video failed',
        );
        await videos.markFailed(
          video.id,
          encodeId,
          { code: reason.error.code, message: reason.error.message },
          reason.log,
        );
        await store.deletePrefix(prefix).catch(() => {});
        return;
      }
      await store.deletePrefix(prefix).catch(() => {});
      throw error; // transient: pg-boss retries with backoff
    } finally {
      await fs.rm(videoWorkDir, { recursive: true, force: true });
    }
  }

  async #encode(
    videoId: string,
    encodeId: string,
    probe: ProbeResult,
    sourceKey: string,
    workDir: string,
    signal: AbortSignal,
  ): Promise<{ outputs: EncodeOutputs; renditions: Rendition[] }> {
    const { store, tools, config, videos } = this.#deps;
    const prefix = encodePrefix(videoId, encodeId);
    const rungs = planLadder(probe);
    const hasAudio = probe.audio !== null;
    const hlsDir = path.join(workDir, 'hls');
    const input = await store.locate(sourceKey, 24 * 3600);
    const args = buildEncodeArgs({
      input,
      outputDir: hlsDir,
      probe,
      rungs,
      segmentSeconds: config.segmentSeconds,
      preset: config.preset,
    });
    await Promise.all(
      [...rungs.map((r) => r.name), AUDIO_RENDITION].map((d) =>
        fs.mkdir(path.join(hlsDir, d), { recursive: true }),
      ),
    );
    const publisher = new HlsPublisher(store, prefix, hlsDir, [
      ...rungs.map((r) => r.name),
      ...(hasAudio ? [AUDIO_RENDITION] : []),
    ]);
    const progress = new ProgressTracker(probe.durationSeconds, (percent, eta) =>
      videos.updateProgress(videoId, encodeId, percent, eta),
    );

    // Publish while encoding: segments, then playlists, then (once every rung has a segment) the master.
    let masterPublished = false;
    const publish = async (final: boolean) => {
      await publisher.sync(final);
      if (!masterPublished && publisher.playable) {
        masterPublished = true;
        const early = this.#renditions(rungs, publisher, null);
        await store.put(
          `${prefix}${MASTER}`,
          this.#master(early, publisher),
          'application/vnd.apple.mpegurl',
        );
        await videos.markPlayable(videoId, encodeId, emptyOutputs(), early);
      }
    };
    let publishing = Promise.resolve();
    const timer = setInterval(() => {
      publishing = publishing.then(() => publish(false)).catch(() => {});
    }, 500);
    try {
      await runFfmpeg(tools.ffmpeg, args, {
        signal,
        onProgress: (p) => progress.encoding(p.outTimeSeconds, p.speed),
      });
    } finally {
      clearInterval(timer);
      await publishing;
    }
    await publish(true);

    // CODECS from the actual output, bandwidths measured from the segments.
    const codecs = new Map<string, string>();
    for (const rung of rungs) {
      const init = publisher.variants.find((v) => v.name === rung.name)?.playlist?.mapUri;
      if (!init) continue;
      const codec = await probeOutputCodec(tools.ffprobe, path.join(hlsDir, rung.name, init));
      codecs.set(rung.name, avc1CodecString(codec.profile, codec.level));
    }
    const renditions = this.#renditions(rungs, publisher, codecs);
    await store.put(
      `${prefix}${MASTER}`,
      this.#master(renditions, publisher),
      'application/vnd.apple.mpegurl',
    );
    progress.phase(92);

    const outputs = emptyOutputs();
    // The MP4 download first: the poster reads its candidates from it (≤ 720p, a keyframe every 2 s),
    // measured 13× cheaper than seeking in a 1080p source with sparse keyframes.
    let posterSource = { input, probe };
    if (config.mp4Download) {
      const mp4Path = path.join(workDir, 'download.mp4');
      await runFfmpeg(tools.ffmpeg, buildMp4Args({ hlsDir, rungs, hasAudio, output: mp4Path }), { signal });
      await store.put(`${prefix}download.mp4`, createReadStream(mp4Path), 'video/mp4');
      outputs.mp4 = 'download.mp4';
      posterSource = { input: mp4Path, probe: rungProbe(probe, pickMp4Rung(rungs)) };
    }
    progress.phase(94);

    const posters = await makePoster({
      ffmpegPath: tools.ffmpeg,
      ...posterSource,
      workDir,
      widths: POSTER_WIDTHS,
      signal,
    });
    for (const poster of posters.files) {
      const file = `poster_${poster.width}.jpg`;
      await store.put(`${prefix}${file}`, createReadStream(poster.path), 'image/jpeg');
      outputs.posters.push({ width: poster.width, height: poster.height, file });
    }
    // The storyboard decodes the whole video: read the smallest finished rung (already SDR, stream 0)
    // instead of the source.
    const smallest = rungs[0]!;
    const storyboard = await makeStoryboard({
      ffmpegPath: tools.ffmpeg,
      input: path.join(hlsDir, smallest.name, MEDIA_PLAYLIST_NAME),
      probe: rungProbe(probe, smallest),
      durationSeconds: probe.durationSeconds,
      workDir,
      spriteUrl: 'storyboard.jpg',
      signal,
    });
    await store.put(`${prefix}storyboard.jpg`, createReadStream(storyboard.spritePath), 'image/jpeg');
    await store.put(`${prefix}storyboard.vtt`, createReadStream(storyboard.vttPath), 'text/vtt');
    outputs.storyboard = { vtt: 'storyboard.vtt', sprite: 'storyboard.jpg' };
    await progress.flush();
    return { outputs, renditions };
  }

  /** `codecs`: measured from the output; until then, what the encoder was told (High at the planned level). */
  #renditions(rungs: Rung[], publisher: HlsPublisher, codecs: Map<string, string> | null): Rendition[] {
    return rungs.map((rung) => {
      const variant = publisher.variants.find((v) => v.name === rung.name)!;
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

  #master(renditions: Rendition[], publisher: HlsPublisher): string {
    const audio = publisher.variants.find((v) => v.name === AUDIO_RENDITION);
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

  /** Whether the source object is gone (a store error about it, or the store no longer has it). */
  async #sourceMissing(sourceKey: string, error: unknown): Promise<boolean> {
    if (error instanceof BlobNotFoundError && error.key === sourceKey) return true;
    const stat = await this.#deps.store.stat(sourceKey).catch(() => null); // unknown: not "missing"
    return stat === undefined;
  }

  /** Failures no retry can fix, with the encoder log kept for operators. */
  #permanent(error: unknown): { error: AppError; log: string | null } | undefined {
    if (error instanceof AppError && error.permanent) return { error, log: null };
    if (error instanceof FfmpegError && classifyFfmpegFailure(error) === 'permanent') {
      return {
        error: errors.mediaUnsupported(
          'The video could not be decoded or encoded; the processing log has the details',
        ),
        log: error.stderrTail,
      };
    }
    return undefined;
  }
}

function bandwidthOf(variant: {
  playlist?: { segments: { uri: string; duration: number }[]; targetDuration: number | null } | undefined;
  segmentBytes: Map<string, number>;
}) {
  const segments = (variant.playlist?.segments ?? []).map((s) => ({
    bytes: variant.segmentBytes.get(s.uri) ?? 0,
    durationSeconds: s.duration,
  }));
  return measureBandwidth(segments, variant.playlist?.targetDuration ?? undefined);
}

/** The probe of an encoded rung: H.264 SDR 8-bit at the rung's size, video as stream 0. */
function rungProbe(probe: ProbeResult, rung: Rung): ProbeResult {
  const video = probe.video!;
  return {
    ...probe,
    video: {
      ...video,
      index: 0,
      codec: 'h264',
      width: rung.width,
      height: rung.height,
      displayWidth: rung.width,
      displayHeight: rung.height,
      rotation: 0,
      pixelFormat: 'yuv420p',
      bitDepth: 8,
      colorTransfer: null,
    },
  };
}

function emptyOutputs(): EncodeOutputs {
  return { master: MASTER, mp4: null, posters: [], storyboard: null };
}
