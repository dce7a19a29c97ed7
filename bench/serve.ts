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
 * Load (bench/http-load.ts): a node:http client in a child process (never in Reel's event loop):
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
import { runClientProcess } from './http-load.ts';

const MiB = 1024 * 1024;
const SEGMENT_RATIO_TARGET = 0.8;
const PLAYLIST_P99_TARGET_MS = 10;
const NGINX_PATHS = ['/usr/sbin/nginx', '/usr/bin/nginx'];

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

/**
 * The floor of what Node itself costs: node:http + fs.createReadStream (1 MiB reads), no framework,
 * no access check. Shows how much of the gap to nginx is Node's and how much is Reel's.
 */
async function servePlainNode(root: string, port: number): Promise<void> {
  const { createReadStream } = await import('node:fs');
  const server = http.createServer(async (request, response) => {
    const file = path.join(root, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    const stat = await fs.stat(file).catch(() => undefined);
    if (!file.startsWith(root) || !stat?.isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': stat.size });
    createReadStream(file, { highWaterMark: MiB }).pipe(response);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.on('SIGTERM', () => process.exit(0));
}

async function startPlainNode(root: string): Promise<Nginx> {
  const port = await freePort();
  const child = spawn(process.execPath, [import.meta.filename, '--plain-node', `${root},${port}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error('the plain Node server did not start');
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
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    segments: { type: 'string', default: '48' },
    rate: { type: 'string', default: '1000' },
    'latency-seconds': { type: 'string', default: '5' },
    'nginx-workers': { type: 'string', default: '1' },
    'plain-node': { type: 'string' },
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
  let plain: Nginx | undefined;
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
    plain = await startPlainNode(storageRoot);
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
      {
        name: 'plain node',
        baseUrl: plain.baseUrl,
        pid: plain.child.pid!,
        paths: files.map((f) => `/${encodeDir}/bench/${f}`),
      },
    ];
    const loadBefore = os.loadavg()[0]!;
    // All answer the same bytes.
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
      const order = round % 2 === 0 ? targets : [...targets].reverse(); // alternate: drift hits all alike
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
    const playlistNode = await latency(plain.baseUrl, playlist.replace(/^\/media\//, '/videos/'), {});
    const metadata = await latency(reel.baseUrl, `/api/v1/videos/${videoId}`, {});
    // What the metadata route can do at most (closed loop), to read its latency against.
    const metadataCapacity = await runClientProcess({
      kind: 'closed',
      baseUrl: reel.baseUrl,
      paths: [`/api/v1/videos/${videoId}`],
      connections: 8,
      durationMs: 3000,
    });

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
    const [ref, ours, node] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    const ratio = ours.mbs / ref.mbs;
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    const ms = (value: number) => `${value.toFixed(2)} ms`;
    console.log('');
    console.log(
      `Segments: ${files.length} files of 1–4 MB, ${connections} keep-alive connections, ${rounds} × ${seconds} s each, ` +
        `${os.cpus().length} CPUs shared by servers and client; nginx ${values['nginx-workers']} worker(s), sendfile; ` +
        `load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after`,
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
    console.log(`| (plain Node / nginx, reference) | ${((node.mbs / ref.mbs) * 100).toFixed(1)} % | — | — |`);
    console.log(
      `| playlist p50 / p99 (Reel, gzip, ${playlistReel.rate.toFixed(0)} req/s) | ${ms(playlistReel.p50)} / ${ms(playlistReel.p99)} | p99 < ${PLAYLIST_P99_TARGET_MS} ms | ${verdict(playlistReel.p99 < PLAYLIST_P99_TARGET_MS && playlistReel.errors === 0)} |`,
    );
    console.log(
      `| playlist p50 / p99 (nginx, reference, ${playlistNginx.rate.toFixed(0)} req/s) | ${ms(playlistNginx.p50)} / ${ms(playlistNginx.p99)} | — | — |`,
    );
    console.log(
      `| playlist p50 / p99 (plain Node, reference, ${playlistNode.rate.toFixed(0)} req/s) | ${ms(playlistNode.p50)} / ${ms(playlistNode.p99)} | — | — |`,
    );
    console.log(
      `| metadata GET /api/v1/videos/:id p50 / p99 (${metadata.rate.toFixed(0)} req/s) | ${ms(metadata.p50)} / ${ms(metadata.p99)} | — | ${metadata.errors ? `${metadata.errors} errors` : '—'} |`,
    );
    console.log(
      `| metadata capacity (closed loop, 8 connections) | ${(metadataCapacity.requests / metadataCapacity.seconds).toFixed(0)} req/s | — | — |`,
    );
    return 0;
  } finally {
    await nginx?.stop().catch(() => {});
    await plain?.stop().catch(() => {});
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

if (values['plain-node']) {
  const [root, port] = values['plain-node'].split(',') as [string, string];
  await servePlainNode(root, Number(port));
} else {
  process.exitCode = await main().catch((error: unknown) => {
    console.error(error);
    return 1;
  });
}
