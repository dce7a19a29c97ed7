/**
 * Upload throughput benchmark: Reel's chunked upload against two references measured in the same run
 * on the same bytes.
 *
 *   node bench/upload.ts [--size 1GiB] [--rounds 3] [--parallel 4] [--chunk-size 8MiB] [--dir /tmp]
 *
 * (a) fs copy: read the file in 8 MiB blocks, write them to another file.
 * (b) plain PUT: one streaming HTTP PUT of the whole file to a bare node:http sink (child process)
 *     that pipes the body to a file.
 * (c) Reel: `reel serve` as a child process; uploadFile (hash + PUT per chunk, parallel), timed up to
 *     the last chunk acknowledged; complete is timed separately (the bytes are not a video: expect 422).
 *
 * No fsync anywhere: Reel's local store does not fsync chunks, so neither do the references. The source
 * file is written just before, so every reader gets it from the page cache alike. Page-cache writes on
 * a VM vary a lot from one second to the next, so the three run in interleaved rounds (order rotated)
 * against servers started once, and the table shows medians. Each round's output file is deleted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { uploadFile } from '../src/client/upload-client.ts';
import { parseByteSize } from '../src/platform/byte-size.ts';

const MiB = 1024 * 1024;
const BLOCK = 8 * MiB;
const ROOT = path.resolve(import.meta.dirname, '..');
const NODE = process.execPath;
const TARGET_RATIO = 0.8;
const TARGET_RSS_MB = 150;

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1GiB' },
    parallel: { type: 'string', default: '4' },
    'chunk-size': { type: 'string', default: '8MiB' },
    rounds: { type: 'string', default: '3' },
    dir: { type: 'string', default: os.tmpdir() },
  },
});
const size = parseByteSize(values.size);
const chunkSize = parseByteSize(values['chunk-size']);
const parallel = Number(values.parallel);
const rounds = Number(values.rounds);
if (
  !size ||
  !chunkSize ||
  !Number.isInteger(parallel) ||
  parallel < 1 ||
  !Number.isInteger(rounds) ||
  rounds < 1
) {
  console.error(
    'Usage: node bench/upload.ts [--size 1GiB] [--rounds 3] [--parallel 4] [--chunk-size 8MiB] [--dir DIR]',
  );
  process.exit(2);
}
const children = new Set<ChildProcess>();

interface ReelServer {
  child: ChildProcess;
  baseUrl: string;
  apiKey: string;
}

interface ReelRun {
  rate: number;
  completeMs: number;
  outcome: string;
}

async function main(bytes: number): Promise<void> {
  const work = await fs.mkdtemp(path.join(values.dir, 'reel-bench-upload-'));
  const cleanup = async () => {
    for (const child of children) signal(child, 'SIGKILL');
    await fs.rm(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const source = path.join(work, 'source.mp4');
    const started = performance.now();
    await generate(source, bytes);
    log(`generated ${mb(bytes)} MiB in ${seconds(performance.now() - started)} s → ${source}`);

    const sink = await startSink(path.join(work, 'put-sink.bin'));
    const reel = await startReel(path.join(work, 'reel-data'));
    const pid = reel.child.pid!;
    const hwmStartup = readStatusMb(pid, 'VmHWM');
    const hwmReset = resetPeakRss(pid);
    const rssBefore = readStatusMb(pid, 'VmRSS');
    let rssSampled = rssBefore;
    const sampler = setInterval(() => {
      rssSampled = Math.max(rssSampled, readStatusMb(pid, 'VmRSS'));
    }, 100);

    const results = { fs: [] as number[], put: [] as number[], reel: [] as number[], ratio: [] as number[] };
    const completes: ReelRun[] = [];
    const kinds = ['fs', 'put', 'reel'] as const;
    for (let round = 0; round < rounds; round++) {
      const order = kinds.map((_, i) => kinds[(i + round) % kinds.length]!);
      const rates: Partial<Record<(typeof kinds)[number], number>> = {};
      for (const kind of order) {
        if (kind === 'fs') rates.fs = await benchFsCopy(source, path.join(work, 'fs-copy.bin'));
        if (kind === 'put') rates.put = await benchPlainPut(source, sink);
        if (kind === 'reel') {
          const run = await benchReel(source, reel);
          rates.reel = run.rate;
          completes.push(run);
        }
      }
      results.fs.push(rates.fs!);
      results.put.push(rates.put!);
      results.reel.push(rates.reel!);
      results.ratio.push(rates.reel! / rates.put!);
      log(
        `round ${round + 1} (${order.join(', ')}): fs ${rates.fs!.toFixed(0)}, PUT ${rates.put!.toFixed(0)}, ` +
          `Reel ${rates.reel!.toFixed(0)} MiB/s`,
      );
    }
    clearInterval(sampler);
    const hwmUpload = readStatusMb(pid, 'VmHWM');
    rssSampled = Math.max(rssSampled, readStatusMb(pid, 'VmRSS'));

    const fsRate = median(results.fs);
    const putRate = median(results.put);
    const reelRate = median(results.reel);
    const ratioPut = median(results.ratio);
    const all = (list: number[]) => list.map((value) => value.toFixed(0)).join(', ');
    const rows: [string, string][] = [
      [
        'file',
        `${mb(bytes)} MiB; Reel: ${parallel} parallel × ${mb(chunkSize!)} MiB chunks; ${rounds} rounds`,
      ],
      ['(a) fs copy, 8 MiB blocks, no fsync', `${fsRate.toFixed(0)} MiB/s   (${all(results.fs)})`],
      ['(b) plain streaming PUT → file', `${putRate.toFixed(0)} MiB/s   (${all(results.put)})`],
      ['(c) Reel, to last chunk acknowledged', `${reelRate.toFixed(0)} MiB/s   (${all(results.reel)})`],
      ['Reel / plain PUT (median of rounds)', `${(ratioPut * 100).toFixed(0)} %`],
      ['Reel / fs copy', `${((reelRate / fsRate) * 100).toFixed(0)} %`],
      [
        'Reel complete (assemble + probe)',
        `${seconds(median(completes.map((run) => run.completeMs)))} s → ${completes[0]?.outcome}`,
      ],
      ['server VmHWM at startup', `${hwmStartup} MiB`],
      ['server RSS before uploads / sampled max', `${rssBefore} / ${rssSampled} MiB`],
      [
        hwmReset ? 'server VmHWM during uploads' : 'server VmHWM (lifetime; reset refused)',
        `${hwmUpload} MiB (+${hwmUpload - rssBefore} MiB over the idle server)`,
      ],
    ];
    const width = Math.max(...rows.map(([name]) => name.length));
    console.log('');
    for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
    console.log('');
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    console.log(`${verdict(ratioPut >= TARGET_RATIO)}  Reel ≥ ${TARGET_RATIO * 100} % of plain PUT`);
    console.log(`${verdict(hwmUpload < TARGET_RSS_MB)}  server peak RSS < ${TARGET_RSS_MB} MiB`);
    stop(sink.child);
    stop(reel.child);
    await new Promise((resolve) =>
      reel.child.exitCode === null ? reel.child.once('exit', resolve) : resolve(0),
    );
  } finally {
    await cleanup();
  }
}

/** Random-looking bytes, fast: one random 8 MiB block repeated, each copy with its own header. */
async function generate(file: string, bytes: number): Promise<void> {
  const block = randomBytes(BLOCK);
  // Chunk 0 must sniff as a video container: start with an ISO-BMFF `ftyp` box.
  const ftyp = Buffer.from('00000018667479706973366d0000020069736f6d69736f32', 'hex');
  const handle = await fs.open(file, 'w');
  try {
    for (let offset = 0, index = 0; offset < bytes; offset += BLOCK, index++) {
      block.writeUInt32BE(index, 32);
      block.writeUInt32BE(Math.floor(Math.random() * 2 ** 32), 36);
      if (index === 0) ftyp.copy(block, 0);
      else block.fill(index & 0xff, 0, 24);
      await handle.write(block, 0, Math.min(BLOCK, bytes - offset), offset);
    }
  } finally {
    await handle.close();
  }
}

async function benchFsCopy(source: string, target: string): Promise<number> {
  const buffer = Buffer.allocUnsafe(BLOCK);
  const started = performance.now();
  const input = await fs.open(source, 'r');
  const output = await fs.open(target, 'w');
  try {
    for (let offset = 0; ; ) {
      const { bytesRead } = await input.read(buffer, 0, BLOCK, offset);
      if (bytesRead === 0) break;
      await output.write(buffer, 0, bytesRead, offset);
      offset += bytesRead;
    }
  } finally {
    await input.close();
    await output.close();
  }
  const rate = mbPerSecond(size!, performance.now() - started);
  await fs.rm(target, { force: true });
  return rate;
}

/** A bare node:http server that pipes each request body to one file (truncated per request). */
const SINK = `
const http = require('node:http');
const fs = require('node:fs');
const { pipeline } = require('node:stream');
const server = http.createServer((request, response) => {
  pipeline(request, fs.createWriteStream(process.argv[1]), (error) => {
    response.writeHead(error ? 500 : 200).end(error ? String(error) : 'ok');
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

interface Sink {
  child: ChildProcess;
  port: number;
  target: string;
}

async function startSink(target: string): Promise<Sink> {
  const child = spawn(NODE, ['-e', SINK, target], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  return { child, port: Number(await firstLine(child)), target };
}

async function benchPlainPut(source: string, sink: Sink): Promise<number> {
  const agent = new http.Agent({ keepAlive: false });
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: sink.port,
        method: 'PUT',
        path: '/',
        agent,
        headers: { 'content-length': size },
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          response.statusCode === 200 ? resolve() : reject(new Error(`sink ${response.statusCode}`)),
        );
      },
    );
    request.on('error', reject);
    createReadStream(source, { highWaterMark: MiB }).pipe(request);
  });
  const rate = mbPerSecond(size!, performance.now() - started);
  await fs.rm(sink.target, { force: true });
  return rate;
}

async function startReel(dataDir: string): Promise<ReelServer> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    WORKERS: 'false',
    RATE_LIMIT_CHUNKS_PER_MINUTE: '1000000',
    UPLOAD_MAX_SIZE: String(Math.max(size!, 20 * 1024 * MiB)),
  };
  const child = spawn(NODE, [path.join(ROOT, 'src/cli.ts'), 'serve'], { cwd: ROOT, env, stdio: 'inherit' });
  children.add(child);
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitUntilUp(`${baseUrl}/healthz`, child);
  // With the server running, `keys create` goes through its admin socket; the key is the last line.
  const output = await runToEnd([path.join(ROOT, 'src/cli.ts'), 'keys', 'create', '--name', 'bench'], env);
  return { child, baseUrl, apiKey: output.trim().split('\n').at(-1)! };
}

/** One upload, timed to the last chunk acknowledged; complete (expected to refuse random bytes) apart. */
async function benchReel(source: string, server: ReelServer): Promise<ReelRun> {
  let lastAck = 0;
  let outcome = 'accepted (202)';
  const started = performance.now();
  try {
    await uploadFile({
      baseUrl: server.baseUrl,
      apiKey: server.apiKey,
      filePath: source,
      parallel,
      chunkSize,
      statePath: false,
      onProgress: (progress) => {
        if (progress.chunksDone === progress.chunksTotal && lastAck === 0) lastAck = performance.now();
      },
      onRetry: ({ what, error, delayMs }) => log(`retry ${what} in ${delayMs} ms: ${String(error)}`),
    });
  } catch (error) {
    if (lastAck === 0) throw error;
    const { status, code } = error as { status?: number; code?: string };
    outcome = `refused: ${status ?? ''} ${code ?? String(error)}`;
  }
  return {
    rate: mbPerSecond(size!, lastAck - started),
    completeMs: performance.now() - lastAck,
    outcome,
  };
}

function readStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

async function waitUntilUp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`reel serve exited with ${child.exitCode}`);
    const ok = await fetch(url)
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('reel serve did not come up within 60 s');
}

function runToEnd(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    let stdout = '';
    child.stdout.on('data', (part) => {
      stdout += part;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${args.join(' ')} → ${code}`)),
    );
  });
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (part) => {
      text += part;
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function stop(child: ChildProcess): void {
  signal(child, 'SIGTERM');
}

/** Signals a child this script started, by PID, if it is still running. */
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(child.pid, name);
  } catch {
    // already gone
  }
}

/** Resets the kernel's peak-RSS mark (VmHWM) of a process; false when not permitted. */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function mbPerSecond(bytes: number, ms: number): number {
  return bytes / MiB / (ms / 1000);
}

function mb(bytes: number): string {
  return (bytes / MiB).toFixed(0);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

function log(message: string): void {
  console.error(`[bench] ${message}`);
}

await main(size);
