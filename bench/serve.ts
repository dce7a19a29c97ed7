/**
 * Media serving benchmark: Reel's media route against nginx (Debian's, sendfile) serving the same files,
 * in the same run.
 *
 *   node bench/serve.ts [--seconds 10] [--connections 32] [--rounds 2] [--segments 48] [--rate 1000]
 *                       [--nginx-workers 1] [--dir /tmp]
 *
 * Setup: `reel serve` runs as a child process (local storage, LOG_LEVEL=warn) and processes a short
 * real clip, which gives a real video row and encode. Segment files of 1–4 MB (random sizes, random
 * bytes) are then written INTO that encode's directory (`videos/<id>/<encode>/bench/seg_NNNNN.m4s`), so
 * Reel serves them through its real route, access check and store (`/media/<id>/<encode>/bench/…`),
 * and nginx serves the very same files from the storage root (`/videos/<id>/<encode>/bench/…`) with
 * sendfile, access_log off, one worker by default (one process each: Reel is one Node process).
 *
 * Load: a node:http client in a child process (never in Reel's event loop), keep-alive connections:
 * - segments: closed loop, `--connections` connections for `--seconds` each, every response body read to
 *   the end; rounds alternate nginx / Reel; req/s and MB/s are the mean of the rounds. Target: Reel ≥ 80 %
 *   of nginx's MB/s.
 * - latency: open loop at `--rate` req/s (requests are sent on schedule whatever the answers, latency is
 *   measured from the scheduled instant: no coordinated omission) for a media playlist (gzip accepted,
 *   as players send) and for `GET /api/v1/videos/:id`. Target: playlist p99 < 10 ms.
 *
 * Everything (servers and client) shares this machine's cores: the figures are only comparable within
 * one run. Prints a table with PASS/FAIL and exits 0 either way (2 if it cannot run, e.g. no nginx).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { uploadFile } from '../src/client/upload-client.ts';
import { makeClip } from '../test/support/media.ts';
import { freePort, runCli, type ServerProcess, startServerProcess } from '../test/support/server-process.ts';

const MiB = 1024 * 1024;
const SEGMENT_RATIO_TARGET = 0.8;
const PLAYLIST_P99_TARGET_MS = 10;
const NGINX_PATHS = ['/usr/sbin/nginx', '/usr/bin/nginx'];

// ---------------------------------------------------------------------------------------------- client

interface ClosedLoopJob {
  kind: 'closed';
  baseUrl: string;
  paths: string[];
  connections: number;
  durationMs: number;
}
interface OpenLoopJob {
  kind: 'open';
  baseUrl: string;
  paths: string[];
  rate: number;
  /** Sent on schedule but not measured: connections opening, JIT warming up (client and server). */
  warmupMs: number;
  durationMs: number;
  headers: Record<string, string>;
}
interface ClientResult {
  requests: number;
  bytes: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

function get(agent: http.Agent, url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on('end', () =>
        response.statusCode === 200 ? resolve(bytes) : reject(new Error(`${response.statusCode}`)),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

async function runClient(job: ClosedLoopJob | OpenLoopJob): Promise<ClientResult> {
  const result: ClientResult = { requests: 0, bytes: 0, errors: 0, seconds: 0, latenciesMs: [] };
  const start = performance.now();
  const deadline = start + job.durationMs;
  if (job.kind === 'closed') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: job.connections });
    await Promise.all(
      Array.from({ length: job.connections }, async (_, worker) => {
        for (let next = worker; performance.now() < deadline; next += job.connections) {
          try {
            // Not `result.bytes += await …`: that reads result.bytes before the await and loses updates.
            const bytes = await get(agent, job.baseUrl + job.paths[next % job.paths.length]);
            result.bytes += bytes;
            result.requests++;
          } catch {
            result.errors++;
          }
        }
      }),
    );
    agent.destroy();
  } else {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const pending: Promise<void>[] = [];
    const warmup = Math.round((job.rate * job.warmupMs) / 1000);
    const total = warmup + Math.round((job.rate * job.durationMs) / 1000);
    let sent = 0;
    while (sent < total) {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) * job.rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const scheduled = start + (sent * 1000) / job.rate;
        const measured = sent >= warmup;
        pending.push(
          get(agent, job.baseUrl + job.paths[sent % job.paths.length], job.headers).then(
            (bytes) => {
              if (!measured) return;
              result.latenciesMs.push(performance.now() - scheduled);
              result.bytes += bytes;
              result.requests++;
            },
            () => {
              if (measured) result.errors++;
            },
          ),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(pending);
    agent.destroy();
    // Throughput over the measured part: from its first scheduled instant to the last answer.
    result.seconds = (performance.now() - start - job.warmupMs) / 1000;
    return result;
  }
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

/** Runs one load job in a child process (this very file with `--client`). */
function runClientProcess(job: ClosedLoopJob | OpenLoopJob): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.filename, '--client', JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`load client exited with ${code}`));
      else resolve(JSON.parse(out) as ClientResult);
    });
  });
}

// ---------------------------------------------------------------------------------------------- servers

interface Nginx {
  child: ChildProcess;
  baseUrl: string;
  stop(): Promise<void>;
}

async function startNginx(binary: string, work: string, root: string, workers: number): Promise<Nginx> {
  const port = await freePort();
  const prefix = path.join(work, 'nginx');
  await fs.mkdir(prefix, { recursive: true });
  const conf = path.join(prefix, 'nginx.conf');
  const temp = (name: string) => `${name}_temp_path ${path.join(prefix, name)};`;
  await fs.writeFile(
    conf,
    `${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes ${workers};
daemon off;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}
  types { video/mp4 m4s mp4; application/vnd.apple.mpegurl m3u8; }
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`,
  );
  const child = spawn(binary, ['-p', prefix, '-e', path.join(prefix, 'error.log'), '-c', conf], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start (see ${prefix}/error.log)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** CPU seconds (user + system) used so far by a process and its children that are still alive. */
async function cpuSeconds(pid: number): Promise<number> {
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    if (Number(entry) === pid || ppid === pid) total += (Number(fields[11]) + Number(fields[12])) / ticks;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------- main

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    client: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    segments: { type: 'string', default: '48' },
    rate: { type: 'string', default: '1000' },
    'latency-seconds': { type: 'string', default: '5' },
    'nginx-workers': { type: 'string', default: '1' },
    dir: { type: 'string', default: os.tmpdir() },
  },
});

async function writeSegments(dir: string, count: number): Promise<{ files: string[]; bytes: number }> {
  await fs.mkdir(dir, { recursive: true });
  const files: string[] = [];
  let bytes = 0;
  for (let index = 0; index < count; index++) {
    const size = MiB + Math.floor(Math.random() * 3 * MiB);
    const name = `seg_${String(index).padStart(5, '0')}.m4s`;
    await fs.writeFile(path.join(dir, name), randomBytes(size));
    files.push(name);
    bytes += size;
  }
  return { files, bytes };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<number> {
  const nginxBinary = NGINX_PATHS.find((candidate) => spawnSync(candidate, ['-v']).status === 0);
  if (!nginxBinary) {
    console.error(
      'bench/serve.ts needs nginx as the reference and it is not installed.\n' +
        "Install Debian's: sudo apt-get install -y nginx-light   (or nginx), then run again.",
    );
    return 2;
  }
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const rounds = Number(values.rounds);
  const rate = Number(values.rate);
  const latencySeconds = Number(values['latency-seconds']);
  const work = await fs.mkdtemp(path.join(values.dir, 'reel-bench-serve-'));
  let reel: ServerProcess | undefined;
  let nginx: Nginx | undefined;
  try {
    const dataDir = path.join(work, 'data');
    const env = { DATA_DIR: dataDir, HLS_SEGMENT_SECONDS: '2', LOG_LEVEL: 'warn' };
    console.log(`work directory ${work}; starting Reel and processing a 4 s clip…`);
    reel = await startServerProcess(env);
    const created = await runCli(['keys', 'create', '--name', 'bench'], env);
    if (created.code !== 0) throw new Error(`keys create failed: ${created.stderr}`);
    const apiKey = created.stdout.trim().split('\n').at(-1)!.trim();
    const clip = await makeClip(work, { seconds: 4 });
    const { videoId } = await uploadFile({ baseUrl: reel.baseUrl, apiKey, filePath: clip, statePath: false });
    let video: { status: string; playback: { hls: string } };
    for (;;) {
      video = (await (await fetch(`${reel.baseUrl}/api/v1/videos/${videoId}`)).json()) as typeof video;
      if (video.status === 'ready') break;
      if (video.status === 'failed') throw new Error(`processing failed: ${JSON.stringify(video)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const encodeId = new URL(video.playback.hls).pathname.split('/')[3]!;
    const storageRoot = path.join(dataDir, 'media');
    const encodeDir = `videos/${videoId}/${encodeId}`;
    const { files, bytes } = await writeSegments(
      path.join(storageRoot, encodeDir, 'bench'),
      Number(values.segments),
    );
    console.log(`${files.length} segment files, ${(bytes / MiB).toFixed(0)} MiB (1–4 MB each)`);

    nginx = await startNginx(nginxBinary, work, storageRoot, Number(values['nginx-workers']));
    const targets = [
      {
        name: 'nginx',
        baseUrl: nginx.baseUrl,
        pid: nginx.child.pid!,
        paths: files.map((f) => `/${encodeDir}/bench/${f}`),
      },
      {
        name: 'reel',
        baseUrl: reel.baseUrl,
        pid: reel.child.pid!,
        paths: files.map((f) => `/media/${videoId}/${encodeId}/bench/${f}`),
      },
    ];
    // Both answer the same bytes.
    for (const target of targets) {
      const response = await fetch(target.baseUrl + target.paths[0]);
      const body = Buffer.from(await response.arrayBuffer());
      const expected = await fs.readFile(path.join(storageRoot, encodeDir, 'bench', files[0]!));
      if (response.status !== 200 || !body.equals(expected))
        throw new Error(`${target.name} served other bytes`);
    }

    console.log('warming up (2 s each)…');
    for (const target of targets) {
      await runClientProcess({
        kind: 'closed',
        baseUrl: target.baseUrl,
        paths: target.paths,
        connections,
        durationMs: 2000,
      });
    }
    const totals = new Map(
      targets.map((t) => [t.name, { requests: 0, bytes: 0, seconds: 0, errors: 0, cpu: 0 }]),
    );
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        const cpuBefore = await cpuSeconds(target.pid);
        const result = await runClientProcess({
          kind: 'closed',
          baseUrl: target.baseUrl,
          paths: target.paths,
          connections,
          durationMs: seconds * 1000,
        });
        const cpu = (await cpuSeconds(target.pid)) - cpuBefore;
        const total = totals.get(target.name)!;
        total.requests += result.requests;
        total.bytes += result.bytes;
        total.seconds += result.seconds;
        total.errors += result.errors;
        total.cpu += cpu;
        console.log(
          `  round ${round + 1} ${target.name.padEnd(5)} ${(result.requests / result.seconds).toFixed(0).padStart(6)} req/s ` +
            `${(result.bytes / MiB / result.seconds).toFixed(0).padStart(6)} MiB/s  server CPU ${((cpu / result.seconds) * 100).toFixed(0)} %` +
            (result.errors ? `  ${result.errors} errors` : ''),
        );
      }
    }

    console.log(`latency, open loop at ${rate} req/s for ${latencySeconds} s each…`);
    const playlist = `/media/${videoId}/${encodeId}/${await firstVariant(reel.baseUrl, videoId, encodeId)}`;
    const latency = async (baseUrl: string, urlPath: string, headers: Record<string, string>) => {
      const result = await runClientProcess({
        kind: 'open',
        baseUrl,
        paths: [urlPath],
        rate,
        warmupMs: 1000,
        durationMs: latencySeconds * 1000,
        headers,
      });
      const sorted = result.latenciesMs.sort((a, b) => a - b);
      return {
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        rate: result.requests / result.seconds,
        errors: result.errors,
      };
    };
    const gzip = { 'accept-encoding': 'gzip, deflate, br' };
    const playlistReel = await latency(reel.baseUrl, playlist, gzip);
    const playlistNginx = await latency(nginx.baseUrl, playlist.replace(/^\/media\//, '/videos/'), gzip);
    const metadata = await latency(reel.baseUrl, `/api/v1/videos/${videoId}`, {});

    // ------------------------------------------------------------------------------------ report
    const rows = targets.map((target) => {
      const total = totals.get(target.name)!;
      return {
        name: target.name,
        rps: total.requests / total.seconds,
        mbs: total.bytes / 1e6 / total.seconds,
        cpu: (total.cpu / total.seconds) * 100,
        errors: total.errors,
      };
    });
    const [ref, ours] = rows as [(typeof rows)[0], (typeof rows)[0]];
    const ratio = ours.mbs / ref.mbs;
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    const ms = (value: number) => `${value.toFixed(2)} ms`;
    console.log('');
    console.log(
      `Segments: ${files.length} files of 1–4 MB, ${connections} keep-alive connections, ${rounds} × ${seconds} s each, ` +
        `${os.cpus().length} CPUs shared by servers and client; nginx ${values['nginx-workers']} worker(s), sendfile`,
    );
    console.log('| server | req/s | MB/s | server CPU | errors |');
    console.log('|---|---:|---:|---:|---:|');
    for (const row of rows) {
      console.log(
        `| ${row.name} | ${row.rps.toFixed(0)} | ${row.mbs.toFixed(0)} | ${row.cpu.toFixed(0)} % | ${row.errors} |`,
      );
    }
    console.log('');
    console.log('| check | measured | target | verdict |');
    console.log('|---|---:|---:|---|');
    console.log(
      `| segments: Reel / nginx (MB/s) | ${(ratio * 100).toFixed(1)} % | ≥ ${SEGMENT_RATIO_TARGET * 100} % | ${verdict(ratio >= SEGMENT_RATIO_TARGET)} |`,
    );
    console.log(
      `| playlist p50 / p99 (Reel, gzip, ${playlistReel.rate.toFixed(0)} req/s) | ${ms(playlistReel.p50)} / ${ms(playlistReel.p99)} | p99 < ${PLAYLIST_P99_TARGET_MS} ms | ${verdict(playlistReel.p99 < PLAYLIST_P99_TARGET_MS && playlistReel.errors === 0)} |`,
    );
    console.log(
      `| playlist p50 / p99 (nginx, reference, ${playlistNginx.rate.toFixed(0)} req/s) | ${ms(playlistNginx.p50)} / ${ms(playlistNginx.p99)} | — | — |`,
    );
    console.log(
      `| metadata GET /api/v1/videos/:id p50 / p99 (${metadata.rate.toFixed(0)} req/s) | ${ms(metadata.p50)} / ${ms(metadata.p99)} | — | ${metadata.errors ? `${metadata.errors} errors` : '—'} |`,
    );
    return 0;
  } finally {
    await nginx?.stop().catch(() => {});
    await reel?.stop().catch(() => {});
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** The first variant playlist the master lists (`180p/index.m3u8`). */
async function firstVariant(baseUrl: string, videoId: string, encodeId: string): Promise<string> {
  const master = await (await fetch(`${baseUrl}/media/${videoId}/${encodeId}/master.m3u8`)).text();
  const line = master.split('\n').find((l) => l.trim().endsWith('.m3u8') && !l.startsWith('#'));
  if (!line) throw new Error('no variant in the master playlist');
  return line.trim();
}

if (values.client) {
  const result = await runClient(JSON.parse(values.client) as ClosedLoopJob | OpenLoopJob);
  process.stdout.write(JSON.stringify(result));
} else {
  process.exitCode = await main().catch((error: unknown) => {
    console.error(error);
    return 1;
  });
}
