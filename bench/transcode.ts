/**
 * Transcoding benchmark: Reel's pipeline against the seed's reference pipeline, in the same run, on the
 * same generated 1080p30 source.
 *
 *   node bench/transcode.ts [--seconds 20] [--dir /tmp] [--keep]
 *
 * Source: testsrc2 (1920×1080, 30 fps) averaged with a zooming mandelbrot (fine fractal detail that keeps
 * moving), 440 Hz sine, H.264 crf 16 veryfast + AAC 192k in MP4.
 * (a) Reel, end to end: the whole app in-process (PGlite, local storage, workers), upload through the API
 *     with 8 MiB chunks; timed from the complete call's 202 to `ready`, polling the video every 100 ms
 *     (also time-to-first-playable and when each phase's output appears in storage).
 *     Reel's encode alone: buildEncodeArgs' ffmpeg run directly on the same source (same probe, ladder,
 *     preset), to a scratch directory.
 * (b) The seed's reference: for each rung Reel planned, one ffmpeg (`-preset medium -b:v B -maxrate 1.5B
 *     -bufsize 2B`, B = the rung's cap, AAC 128k) to MP4, then a segmenting pass per rung (`-c copy -f hls
 *     -hls_time 6 -hls_segment_type fmp4`). All sequential; timed in total.
 * Quality: SSIM (ffmpeg `ssim`, the "All" value) of the 1080p and 720p rungs against the source scaled to
 * the rung size (Reel: the rung's published HLS playlist; reference: the rung's MP4).
 * Bytes: Reel = init + segments of every rung and the audio rendition (posters, storyboard, MP4 download
 * listed apart); reference = init + segments of every rung (audio muxed into each). The top-rung
 * comparison uses the video stream's packet bytes (ffprobe), as the reference's rung also carries audio.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AUDIO_RENDITION, buildEncodeArgs, MEDIA_PLAYLIST_NAME } from '../src/media/encode-args.ts';
import { resolveMediaTools } from '../src/media/ffmpeg-binary.ts';
import { DEFAULT_CRF, planLadder, type Rung } from '../src/media/ladder.ts';
import { probeMedia } from '../src/media/probe.ts';
import { startTestApp, type TestApp } from '../test/support/harness.ts';
import { chunkOf, createSession, putChunk } from '../test/support/uploads.ts';

const MiB = 1024 * 1024;
const UPLOAD_CHUNK = 8 * MiB;
const POLL_MS = 100;
const TARGET_SPEED = 1.0;
const TARGET_SSIM_DELTA = 0.002;
const TARGET_FIRST_PLAYABLE_S = 10;
const SSIM_RUNGS = ['1080p', '720p'];

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    dir: { type: 'string', default: os.tmpdir() },
    keep: { type: 'boolean', default: false },
  },
});
const clipSeconds = Number(values.seconds);
if (!(clipSeconds >= 1 && clipSeconds <= 600)) {
  console.error('Usage: node bench/transcode.ts [--seconds 20] [--dir DIR] [--keep]');
  process.exit(2);
}

const tools = resolveMediaTools({});
const children = new Set<ChildProcess>();

interface ReelRun {
  videoId: string;
  encodeId: string;
  outputDir: string;
  rungs: Rung[];
  firstPlayableS: number;
  encodeStartS: number | null;
  encodeDoneS: number | null;
  postersDoneS: number | null;
  storyboardDoneS: number | null;
  readyS: number;
  uploadS: number;
  cpu: CpuShare;
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(values.dir, 'reel-bench-transcode-'));
  let testApp: TestApp | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    killOwnChildren();
    await testApp?.close().catch(() => {});
    if (values.keep) log(`kept ${work}`);
    else await fs.rm(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    log(
      `load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (${os.cpus().length} cores)`,
    );
    const source = path.join(work, 'source.mp4');
    const started = performance.now();
    await generateSource(source, clipSeconds);
    log(
      `generated ${clipSeconds} s 1080p30 source (${mb(await size(source))} MB) in ${sec(since(started))} s`,
    );

    // (a) Reel through the app.
    testApp = await startTestApp();
    const reel = await runReel(testApp, source);
    const reelSpeed = clipSeconds / reel.readyS;
    log(`Reel end to end: ${sec(reel.readyS)} s (first playable ${sec(reel.firstPlayableS)} s)`);
    const reelBytes = await reelOutputBytes(reel);
    const reelQuality = await measureRungs(source, reel.rungs, (rung) =>
      path.join(reel.outputDir, rung.name, MEDIA_PLAYLIST_NAME),
    );
    await testApp.close();
    testApp = undefined;

    // (a') Reel's encode step alone.
    const { seconds: encodeOnly, cpu: encodeOnlyCpu } = await runReelEncodeOnly(
      source,
      path.join(work, 'reel-encode-only'),
    );
    log(`Reel encode alone: ${sec(encodeOnly)} s`);

    // (b) The seed's reference pipeline.
    const refDir = path.join(work, 'reference');
    const ref = await runReference(source, reel.rungs, refDir);
    log(`reference: ${sec(ref.totalS)} s (encode ${sec(ref.encodeS)} s, segment ${sec(ref.segmentS)} s)`);
    const refQuality = await measureRungs(source, reel.rungs, (rung) =>
      path.join(refDir, `${rung.name}.mp4`),
    );
    const refHlsBytes = await sumFiles(refDir, (file) => /\/hls_[^/]+\/(init\.mp4|.*\.m4s)$/.test(file));
    const refMp4Bytes = await sumFiles(refDir, (file) => /\/[^/]+p\.mp4$/.test(file));

    // Report.
    const refSpeed = clipSeconds / ref.totalS;
    const top = reel.rungs.at(-1)!.name;
    const rows: [string, string][] = [
      ['clip', `${clipSeconds} s 1920×1080 30 fps, ${mb(await size(source))} MB source`],
      ['rungs (Reel plan, reference uses the same sizes)', reel.rungs.map(describeRung).join(', ')],
      ['Reel settings', `x264 veryfast, CRF ${DEFAULT_CRF} capped (maxrate = cap, bufsize = 2 × cap)`],
      ['(a) Reel upload (8 MiB chunks, untimed)', `${sec(reel.uploadS)} s`],
      ['(a) Reel 202 → ready', `${sec(reel.readyS)} s = ${x(reelSpeed)} realtime`],
      ['      202 → ladder ffmpeg started (job picked up)', phase(reel.encodeStartS)],
      ['      202 → encode done (VOD playlists)', phase(reel.encodeDoneS)],
      ['      202 → posters stored', phase(reel.postersDoneS)],
      ['      202 → storyboard stored', phase(reel.storyboardDoneS)],
      ['      202 → ready (after MP4 download)', `${sec(reel.readyS)} s`],
      ['(a) Reel 202 → playable: true', `${sec(reel.firstPlayableS)} s`],
      [
        '(a) Reel encode alone (buildEncodeArgs ffmpeg)',
        `${sec(encodeOnly)} s = ${x(clipSeconds / encodeOnly)} realtime`,
      ],
      [
        '(b) reference total (per-rung medium + segmenting)',
        `${sec(ref.totalS)} s = ${x(refSpeed)} realtime`,
      ],
      ['      encode passes / segmenting passes', `${sec(ref.encodeS)} s / ${sec(ref.segmentS)} s`],
      ['speed ratio Reel e2e / reference', `${x(reelSpeed / refSpeed)}`],
      ['speed ratio Reel encode alone / reference', `${x(clipSeconds / encodeOnly / refSpeed)}`],
      [
        'CPU used by this bench / by other processes (cores)',
        `Reel e2e ${describeCpu(reel.cpu)}; encode alone ${describeCpu(encodeOnlyCpu)}; ` +
          `reference ${describeCpu(ref.cpu)}`,
      ],
    ];
    for (const rung of SSIM_RUNGS) {
      const a = reelQuality.get(rung);
      const b = refQuality.get(rung);
      if (!a || !b) continue;
      rows.push([
        `SSIM ${rung} Reel / reference (Δ)`,
        `${a.ssim.toFixed(4)} / ${b.ssim.toFixed(4)} (${signed(a.ssim - b.ssim)})` +
          `  [${a.frames} / ${b.frames} frames]`,
      ]);
      rows.push([
        `video bytes ${rung} Reel / reference`,
        `${mb(a.videoBytes)} / ${mb(b.videoBytes)} MB (${pct(a.videoBytes / b.videoBytes)}) = ` +
          `${kbps(a.videoBytes)} / ${kbps(b.videoBytes)} kb/s`,
      ]);
    }
    rows.push(
      ['Reel HLS bytes (init + segments, all rungs + audio)', `${mb(reelBytes.hls)} MB`],
      ...reelBytes.perRung.map(([name, bytes]): [string, string] => [`      ${name}`, `${mb(bytes)} MB`]),
      [
        'Reel extras (posters / storyboard / MP4 download)',
        `${kb(reelBytes.posters)} kB / ${kb(reelBytes.storyboard)} kB / ${mb(reelBytes.mp4)} MB`,
      ],
      ['reference HLS bytes (init + segments, audio in each rung)', `${mb(refHlsBytes)} MB`],
      ['reference intermediate MP4s', `${mb(refMp4Bytes)} MB`],
      ['HLS bytes ratio Reel / reference', pct(reelBytes.hls / refHlsBytes)],
    );
    const width = Math.max(...rows.map(([name]) => name.length));
    console.log('');
    for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
    console.log('');

    const a = reelQuality.get(top)!;
    const b = refQuality.get(top)!;
    const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    console.log(
      `${pass(reelSpeed >= TARGET_SPEED)}  Reel ≥ ${TARGET_SPEED.toFixed(1)}× realtime (202 → ready: ${x(reelSpeed)})`,
    );
    console.log(
      `${pass(a.ssim >= b.ssim - TARGET_SSIM_DELTA && a.videoBytes <= b.videoBytes)}  ${top} SSIM within ` +
        `${TARGET_SSIM_DELTA} of the reference (${signed(a.ssim - b.ssim)}) at no more bytes (${pct(a.videoBytes / b.videoBytes)})`,
    );
    console.log(
      `${pass(reel.firstPlayableS <= TARGET_FIRST_PLAYABLE_S)}  first playable ≤ ${TARGET_FIRST_PLAYABLE_S} s ` +
        `(${sec(reel.firstPlayableS)} s)`,
    );
    console.log(`(info) Reel encode alone ${x(clipSeconds / encodeOnly)} realtime`);
    log(
      `load average at end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await cleanup();
  }
}

// ---------- source ----------

async function generateSource(output: string, seconds: number): Promise<void> {
  const graph =
    '[1:v]scale=w=1920:h=1080,format=yuv420p[m];[0:v]format=yuv420p[t];[t][m]blend=all_mode=average[v]';
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1920x1080:rate=30',
    '-f',
    'lavfi',
    '-i',
    'mandelbrot=size=960x540:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-filter_complex',
    graph,
    '-map',
    '[v]',
    '-map',
    '2:a',
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '16',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '192k',
    '-movflags',
    '+faststart',
    output,
  ]);
}

// ---------- (a) Reel ----------

async function runReel(t: TestApp, source: string): Promise<ReelRun> {
  const storage = t.app.config.storage;
  if (storage.kind !== 'local') throw new Error('the benchmark expects local storage');
  await t.app.startWorkers();
  const bytes = await fs.readFile(source);
  const uploadStarted = performance.now();
  const session = await createSession(t, bytes, { chunkSize: UPLOAD_CHUNK, filename: 'source.mp4' });
  for (let index = 0; index < session.totalChunks; index++) {
    const response = await putChunk(t, session.id, index, chunkOf(bytes, session.chunkSize, index));
    if (response.statusCode !== 200)
      throw new Error(`chunk ${index}: ${response.statusCode} ${response.body}`);
  }
  const complete = await t.request({
    method: 'POST',
    url: `/api/v1/uploads/${session.id}/complete`,
    json: { title: 'transcode bench' },
  });
  if (complete.statusCode !== 202) throw new Error(`complete: ${complete.statusCode} ${complete.body}`);
  const t0 = performance.now();
  const cpu0 = cpuSnapshot();
  const uploadS = (t0 - uploadStarted) / 1000;
  const videoId: string = complete.json().videoId;

  let firstPlayableS: number | null = null;
  let encodeStartS: number | null = null;
  let encodeDoneS: number | null = null;
  let postersDoneS: number | null = null;
  let storyboardDoneS: number | null = null;
  let encodeDir: string | null = null;
  let topRung: string | null = null;
  const deadline = t0 + Math.max(600, clipSeconds * 30) * 1000;
  for (;;) {
    const now = (performance.now() - t0) / 1000;
    const video = (await t.request({ method: 'GET', url: `/api/v1/videos/${videoId}` })).json();
    if (video.status === 'failed') throw new Error(`Reel failed: ${JSON.stringify(video.error)}`);
    // The worker's first ffmpeg after the 202 is the ladder encode (the probe before it is ffprobe).
    if (encodeStartS === null && directChildren(process.pid).some((pid) => commOf(pid) === 'ffmpeg')) {
      encodeStartS = now;
    }
    if (video.playable && firstPlayableS === null) firstPlayableS = now;
    if (video.playable && encodeDir === null) {
      const row = await t.app.catalog.videos.find(videoId);
      if (row?.encode_id) {
        encodeDir = path.join(storage.root, 'videos', videoId, row.encode_id);
        topRung = (video.renditions as { name: string; height: number }[]).at(-1)?.name ?? null;
      }
    }
    if (encodeDir && topRung) {
      if (encodeDoneS === null) {
        const playlist = await fs
          .readFile(path.join(encodeDir, topRung, MEDIA_PLAYLIST_NAME), 'utf8')
          .catch(() => '');
        if (playlist.includes('#EXT-X-ENDLIST')) encodeDoneS = now;
      }
      if (postersDoneS === null && (await exists(path.join(encodeDir, 'poster_640.jpg')))) postersDoneS = now;
      if (storyboardDoneS === null && (await exists(path.join(encodeDir, 'storyboard.vtt')))) {
        storyboardDoneS = now;
      }
    }
    if (video.status === 'ready') {
      const row = await t.app.catalog.videos.find(videoId);
      if (!row?.encode_id) throw new Error('ready without an encode id');
      const probe = await probeMedia(tools.ffprobe, source);
      return {
        videoId,
        encodeId: row.encode_id,
        outputDir: path.join(storage.root, 'videos', videoId, row.encode_id),
        rungs: planLadder(probe),
        firstPlayableS: firstPlayableS ?? now,
        encodeStartS,
        encodeDoneS,
        postersDoneS,
        storyboardDoneS,
        readyS: now,
        uploadS,
        cpu: cpuShare(cpu0),
      };
    }
    if (performance.now() > deadline) throw new Error(`Reel did not finish: ${JSON.stringify(video)}`);
    await sleep(POLL_MS);
  }
}

async function reelOutputBytes(reel: ReelRun) {
  const perRung: [string, number][] = [];
  for (const name of [...reel.rungs.map((r) => r.name), AUDIO_RENDITION]) {
    const dir = path.join(reel.outputDir, name);
    perRung.push([name, await sumFiles(dir, (file) => /(\.m4s|init_[^/]*\.mp4)$/.test(file))]);
  }
  const top = (file: string) => path.join(reel.outputDir, file);
  const posters = (await size(top('poster_1280.jpg'))) + (await size(top('poster_640.jpg')));
  const storyboard = (await size(top('storyboard.jpg'))) + (await size(top('storyboard.vtt')));
  return {
    perRung,
    hls: perRung.reduce((sum, [, bytes]) => sum + bytes, 0),
    posters,
    storyboard,
    mp4: await size(top('download.mp4')),
  };
}

/** The ffmpeg Reel's worker runs (same probe, ladder, preset, segment length), timed on its own. */
async function runReelEncodeOnly(
  source: string,
  outputDir: string,
): Promise<{ seconds: number; cpu: CpuShare }> {
  const probe = await probeMedia(tools.ffprobe, source);
  const rungs = planLadder(probe);
  for (const name of [...rungs.map((r) => r.name), AUDIO_RENDITION]) {
    await fs.mkdir(path.join(outputDir, name), { recursive: true });
  }
  const args = buildEncodeArgs({ input: source, outputDir, probe, rungs, preset: 'veryfast' });
  const cpu0 = cpuSnapshot();
  const started = performance.now();
  await run(tools.ffmpeg, args);
  const elapsed = since(started);
  const cpu = cpuShare(cpu0);
  await fs.rm(outputDir, { recursive: true, force: true });
  return { seconds: elapsed, cpu };
}

// ---------- (b) reference ----------

async function runReference(source: string, rungs: readonly Rung[], dir: string) {
  await fs.mkdir(dir, { recursive: true });
  let encodeS = 0;
  let segmentS = 0;
  const cpu0 = cpuSnapshot();
  for (const rung of rungs) {
    const b = rung.maxrateBps;
    const mp4 = path.join(dir, `${rung.name}.mp4`);
    let started = performance.now();
    await ffmpeg([
      '-i',
      source,
      '-vf',
      `scale=w=${rung.width}:h=${rung.height}`,
      '-c:v',
      'libx264',
      '-preset',
      'medium',
      '-b:v',
      String(b),
      '-maxrate',
      String(Math.round(1.5 * b)),
      '-bufsize',
      String(2 * b),
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-ac',
      '2',
      '-ar',
      '48000',
      mp4,
    ]);
    encodeS += since(started);
    const hlsDir = path.join(dir, `hls_${rung.name}`);
    await fs.mkdir(hlsDir, { recursive: true });
    started = performance.now();
    await ffmpeg([
      '-i',
      mp4,
      '-c',
      'copy',
      '-f',
      'hls',
      '-hls_time',
      '6',
      '-hls_playlist_type',
      'vod',
      '-hls_segment_type',
      'fmp4',
      '-hls_fmp4_init_filename',
      'init.mp4',
      '-hls_segment_filename',
      path.join(hlsDir, 'seg_%05d.m4s'),
      path.join(hlsDir, 'index.m3u8'),
    ]);
    segmentS += since(started);
  }
  return { encodeS, segmentS, totalS: encodeS + segmentS, cpu: cpuShare(cpu0) };
}

// ---------- measuring ----------

interface RungQuality {
  ssim: number;
  frames: number;
  videoBytes: number;
}

async function measureRungs(
  source: string,
  rungs: readonly Rung[],
  fileOf: (rung: Rung) => string,
): Promise<Map<string, RungQuality>> {
  const result = new Map<string, RungQuality>();
  for (const rung of rungs.filter((r) => SSIM_RUNGS.includes(r.name))) {
    const file = fileOf(rung);
    const packets = await videoPackets(file);
    result.set(rung.name, {
      ssim: await ssim(file, source, rung),
      frames: packets.count,
      videoBytes: packets.bytes,
    });
  }
  return result;
}

/** ffmpeg's SSIM ("All") of `distorted` against the source scaled to the rung size, both from t = 0. */
async function ssim(distorted: string, source: string, rung: Rung): Promise<number> {
  const graph =
    `[0:v]setpts=PTS-STARTPTS[d];[1:v]scale=w=${rung.width}:h=${rung.height},format=yuv420p,` +
    'setpts=PTS-STARTPTS[r];[d][r]ssim=shortest=1';
  const { stderr } = await run(tools.ffmpeg, [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'info',
    '-i',
    distorted,
    '-i',
    source,
    '-lavfi',
    graph,
    '-f',
    'null',
    '-',
  ]);
  const match = /SSIM .*All:([0-9.]+)/.exec(stderr);
  if (!match) throw new Error(`no SSIM in ffmpeg output for ${distorted}: ${stderr.slice(-500)}`);
  return Number(match[1]);
}

/** Number and total size of the first video stream's packets (playlist or file). */
async function videoPackets(file: string): Promise<{ count: number; bytes: number }> {
  const { stdout } = await run(tools.ffprobe, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=size',
    '-of',
    'csv=p=0',
    file,
  ]);
  const sizes = stdout
    .split('\n')
    .map((line) => Number.parseInt(line, 10))
    .filter((n) => Number.isFinite(n));
  return { count: sizes.length, bytes: sizes.reduce((sum, n) => sum + n, 0) };
}

async function sumFiles(dir: string, include: (file: string) => boolean): Promise<number> {
  let total = 0;
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (include(file)) total += await size(file);
  }
  return total;
}

// ---------- processes ----------

function ffmpeg(args: string[]) {
  return run(tools.ffmpeg, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...args]);
}

/** Spawns a process this benchmark owns (killed by PID on interrupt); rejects with stderr on failure. */
function run(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 1_000_000) stderr = stderr.slice(-200_000);
    });
    child.on('error', (error) => {
      children.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      if (code === 0) resolve({ stdout, stderr });
      else
        reject(new Error(`${path.basename(command)} exited with ${code ?? signal}: ${stderr.slice(-2000)}`));
    });
  });
}

/**
 * On interrupt: SIGKILL, by PID, the processes this benchmark spawned and the direct children of this
 * process (the ffmpeg Reel's in-process worker spawned). Nothing else.
 */
function killOwnChildren(): void {
  const pids = new Set<number>();
  for (const child of children) if (child.pid) pids.add(child.pid);
  for (const pid of directChildren(process.pid)) pids.add(pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function directChildren(parent: number): number[] {
  const found: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces): state, ppid, …
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

// ---------- CPU accounting (other agents share this machine: say how busy it was) ----------

interface CpuSnapshot {
  at: number;
  /** Busy CPU seconds of the whole machine. */
  busy: number;
  /** CPU seconds of this process and its reaped children. */
  own: number;
}

interface CpuShare {
  /** Average cores used by this benchmark (and the ffmpeg it or Reel spawned) over the interval. */
  own: number;
  /** Average cores used by everything else. */
  other: number;
}

const TICKS = 100; // USER_HZ (getconf CLK_TCK) on Linux

function cpuSnapshot(): CpuSnapshot {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = (cpu[0]! + cpu[1]! + cpu[2]! + cpu[5]! + cpu[6]! + cpu[7]!) / TICKS;
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime are fields 14–17 (1-based), i.e. 11–14 after the command name.
    const own = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS;
    return { at: performance.now(), busy, own };
  } catch {
    return { at: performance.now(), busy: Number.NaN, own: Number.NaN };
  }
}

function cpuShare(start: CpuSnapshot): CpuShare {
  const end = cpuSnapshot();
  const wall = (end.at - start.at) / 1000;
  const own = (end.own - start.own) / wall;
  return { own, other: Math.max(0, (end.busy - start.busy) / wall - own) };
}

function describeCpu(cpu: CpuShare): string {
  return `${cpu.own.toFixed(2)} / ${cpu.other.toFixed(2)}`;
}

// ---------- small helpers ----------

async function size(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => ({ size: 0 }))).size;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function since(started: number): number {
  return (performance.now() - started) / 1000;
}

function describeRung(rung: Rung): string {
  return `${rung.name} ${rung.width}×${rung.height} cap ${rung.maxrateBps / 1000}k`;
}

function phase(seconds: number | null): string {
  return seconds === null ? 'not observed' : `${sec(seconds)} s`;
}

const sec = (s: number) => s.toFixed(1);
const x = (ratio: number) => `${ratio.toFixed(2)}×`;
const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
const kb = (bytes: number) => (bytes / 1e3).toFixed(0);
const pct = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;
const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(4)}`;
const kbps = (bytes: number) => ((bytes * 8) / clipSeconds / 1000).toFixed(0);
const log = (message: string) => console.error(`[bench] ${message}`);

await main();
