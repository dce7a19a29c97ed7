import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ProcessingConfig } from '../config.ts';
import {
  AUDIO_RENDITION,
  buildEncodeArgs,
  buildMp4Args,
  MEDIA_PLAYLIST_NAME,
  pickMp4Rung,
} from '../media/encode-args.ts';
import type { MediaTools } from '../media/ffmpeg-binary.ts';
import { probeOutputCodec, runFfmpeg } from '../media/ffmpeg-runner.ts';
import { planLadder, type Rung } from '../media/ladder.ts';
import { avc1CodecString } from '../media/playlists.ts';
import type { ProbeResult } from '../media/probe-result.ts';
import { encodeFileKey, encodePrefix } from '../media/storage-layout.ts';
import { makePoster, makeStoryboard } from '../media/thumbnails.ts';
import type { EncodeOutputs, Rendition } from '../platform/db/schema.ts';
import type { BlobStore } from '../platform/storage/blob-store.ts';
import type { EncodeRepository } from './encode-repository.ts';
import { HlsPublisher } from './hls-publisher.ts';
import { ProgressTracker } from './progress.ts';
import { masterPlaylistOf, renditionsOf } from './renditions.ts';

export interface EncodeDeps {
  encodes: EncodeRepository;
  store: BlobStore;
  tools: MediaTools;
  config: ProcessingConfig;
}

/** One attempt at encoding one video. */
export interface EncodeJob {
  videoId: string;
  encodeId: string;
  probe: ProbeResult;
  sourceKey: string;
  /** This attempt's own local directory (removed by the caller). */
  workDir: string;
  signal: AbortSignal;
}

const MASTER = 'master.m3u8';
const POSTER_WIDTHS = [1280, 640];

/**
 * One ffmpeg pass to an aligned HLS ladder published while it encodes, then the master playlist with
 * measured bandwidths, the MP4 download, posters and storyboard. Returns what the video will serve.
 */
export async function encodeVideo(
  deps: EncodeDeps,
  job: EncodeJob,
): Promise<{ outputs: EncodeOutputs; renditions: Rendition[] }> {
  const rungs = planLadder(job.probe);
  const progress = new ProgressTracker(job.probe.durationSeconds, (percent, eta) =>
    deps.encodes.updateProgress(job.videoId, job.encodeId, percent, eta),
  );
  const input = await deps.store.locate(job.sourceKey, 24 * 3600);
  const hlsDir = path.join(job.workDir, 'hls');
  const publisher = await encodeLadder(deps, job, { input, hlsDir, rungs, progress });
  const renditions = await publishFinalMaster(deps, job, { hlsDir, rungs, publisher });
  progress.phase(92);
  const outputs = await makeExtras(deps, job, { input, hlsDir, rungs, progress });
  await progress.flush();
  return { outputs, renditions };
}

interface LadderPlan {
  input: string;
  hlsDir: string;
  rungs: Rung[];
  progress: ProgressTracker;
}

/** Runs ffmpeg; segments, then playlists, then (once every rung has one) the master reach storage meanwhile. */
async function encodeLadder(deps: EncodeDeps, job: EncodeJob, plan: LadderPlan): Promise<HlsPublisher> {
  const { store, tools, config } = deps;
  const { hlsDir, rungs } = plan;
  const hasAudio = job.probe.audio !== null;
  const variantNames = [...rungs.map((r) => r.name), ...(hasAudio ? [AUDIO_RENDITION] : [])];
  await Promise.all(
    [...rungs.map((r) => r.name), AUDIO_RENDITION].map((d) =>
      fs.mkdir(path.join(hlsDir, d), { recursive: true }),
    ),
  );
  const publisher = new HlsPublisher(store, encodePrefix(job.videoId, job.encodeId), hlsDir, variantNames);
  let masterPublished = false;
  const publish = async (final: boolean) => {
    await publisher.sync(final);
    if (masterPublished || !publisher.playable) return;
    masterPublished = true;
    const early = renditionsOf(rungs, publisher.variants, null);
    await putMaster(store, job, masterPlaylistOf(early, publisher.variants));
    await deps.encodes.markPlayable(job.videoId, job.encodeId, emptyOutputs(), early);
  };
  let publishing = Promise.resolve();
  const timer = setInterval(() => {
    publishing = publishing.then(() => publish(false)).catch(() => {});
  }, 500);
  const args = buildEncodeArgs({
    input: plan.input,
    outputDir: hlsDir,
    probe: job.probe,
    rungs,
    segmentSeconds: config.segmentSeconds,
    preset: config.preset,
  });
  try {
    await runFfmpeg(tools.ffmpeg, args, {
      signal: job.signal,
      onProgress: (p) => plan.progress.encoding(p.outTimeSeconds, p.speed),
    });
  } finally {
    clearInterval(timer);
    await publishing;
  }
  await publish(true);
  return publisher;
}

/** CODECS from the actual output, bandwidths measured from the segments. */
async function publishFinalMaster(
  deps: EncodeDeps,
  job: EncodeJob,
  encoded: { hlsDir: string; rungs: Rung[]; publisher: HlsPublisher },
): Promise<Rendition[]> {
  const { variants } = encoded.publisher;
  const codecs = new Map<string, string>();
  for (const rung of encoded.rungs) {
    const init = variants.find((v) => v.name === rung.name)?.playlist?.mapUri;
    if (!init) continue;
    const codec = await probeOutputCodec(deps.tools.ffprobe, path.join(encoded.hlsDir, rung.name, init));
    codecs.set(rung.name, avc1CodecString(codec.profile, codec.level));
  }
  const renditions = renditionsOf(encoded.rungs, variants, codecs);
  await putMaster(deps.store, job, masterPlaylistOf(renditions, variants));
  return renditions;
}

/** The MP4 download, posters and storyboard. */
async function makeExtras(deps: EncodeDeps, job: EncodeJob, plan: LadderPlan): Promise<EncodeOutputs> {
  const { store, tools, config } = deps;
  const { rungs, hlsDir } = plan;
  const put = (file: string, localPath: string, type: string) =>
    store.put(encodeFileKey(job.videoId, job.encodeId, file), createReadStream(localPath), type);
  const outputs = emptyOutputs();
  // The MP4 download first: the poster reads its candidates from it (≤ 720p, a keyframe every 2 s),
  // measured 13× cheaper than seeking in a 1080p source with sparse keyframes.
  let posterSource = { input: plan.input, probe: job.probe };
  if (config.mp4Download) {
    const mp4Path = path.join(job.workDir, 'download.mp4');
    const hasAudio = job.probe.audio !== null;
    await runFfmpeg(tools.ffmpeg, buildMp4Args({ hlsDir, rungs, hasAudio, output: mp4Path }), {
      signal: job.signal,
    });
    await put('download.mp4', mp4Path, 'video/mp4');
    outputs.mp4 = 'download.mp4';
    posterSource = { input: mp4Path, probe: rungProbe(job.probe, pickMp4Rung(rungs)) };
  }
  plan.progress.phase(94);

  const posters = await makePoster({
    ffmpegPath: tools.ffmpeg,
    ...posterSource,
    workDir: job.workDir,
    widths: POSTER_WIDTHS,
    signal: job.signal,
  });
  for (const poster of posters.files) {
    const file = `poster_${poster.width}.jpg`;
    await put(file, poster.path, 'image/jpeg');
    outputs.posters.push({ width: poster.width, height: poster.height, file });
  }
  // The storyboard decodes the whole video: read the smallest finished rung (already SDR, stream 0)
  // instead of the source.
  const smallest = rungs[0]!;
  const storyboard = await makeStoryboard({
    ffmpegPath: tools.ffmpeg,
    input: path.join(hlsDir, smallest.name, MEDIA_PLAYLIST_NAME),
    probe: rungProbe(job.probe, smallest),
    durationSeconds: job.probe.durationSeconds,
    workDir: job.workDir,
    spriteUrl: 'storyboard.jpg',
    signal: job.signal,
  });
  await put('storyboard.jpg', storyboard.spritePath, 'image/jpeg');
  await put('storyboard.vtt', storyboard.vttPath, 'text/vtt');
  outputs.storyboard = { vtt: 'storyboard.vtt', sprite: 'storyboard.jpg' };
  return outputs;
}

function putMaster(store: BlobStore, job: EncodeJob, text: string): Promise<void> {
  return store.put(encodeFileKey(job.videoId, job.encodeId, MASTER), text, 'application/vnd.apple.mpegurl');
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
