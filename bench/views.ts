/**
 * Views benchmark (issue 10): playback beacons POSTed over loopback to one `reel serve` process, then the
 * statistics queries over a month of generated buckets.
 *
 *   node bench/views.ts [--seconds 10] [--connections 64] [--events 10] [--videos 10000] [--pg postgres://…] [--redis redis://…]
 *
 * Ingest, per configuration (PGlite; PostgreSQL and PostgreSQL + Redis when --pg / TEST_DATABASE_URL and
 * --redis / TEST_REDIS_URL are given): a load client in a child process (never in Reel's event loop) keeps
 * `--connections` simulated players sending batches of `--events` heartbeats as fast as they are answered
 * for `--seconds`; then waits until the server has written its backlog (`reel_view_batches_pending` = 0).
 * Sustained events/s = events acknowledged ÷ (sending time + time to write the backlog). Then an open loop
 * at half the target rate (1 500 events/s on PGlite, 5 000 on PostgreSQL) measures the acknowledgement
 * latency from the scheduled instant (no coordinated omission). Rate limits are raised: this measures the
 * pipeline, limiter included.
 *
 * Stats: `--videos` videos with a month of hourly buckets (each video watched in one hour out of ten), then
 * `GET /api/v1/videos/:id/stats` (30 days, daily) for random videos and `GET /api/v1/stats` (admin, 30 days).
 *
 * Targets: ≥ 10 000 events/s with Redis, ≥ 3 000 on PGlite; p99 ack < 20 ms at half that rate; stats p95 < 100 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { type Database, openPGlite, openPostgres } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrations.ts';
import { freePort } from '../test/support/server-process.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    events: { type: 'string', default: '10' },
    videos: { type: 'string', default: '10000' },
    pg: { type: 'string' },
    redis: { type: 'string' },
    'load-client': { type: 'string' },
  },
});

// ------------------------------------------------------------------------------------------ load client

interface LoadJob {
  baseUrl: string;
  mode: 'closed' | 'open';
  connections: number;
  rate: number;
  seconds: number;
  events: number;
  videos: string[];
}

interface LoadResult {
  batches: number;
  events: number;
  errors: number;
  seconds: number;
  p50: number;
  p95: number;
  p99: number;
}

function post(agent: http.Agent, url: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** A batch of heartbeats 1 s apart, of a session of its own player. */
function batchOf(job: LoadJob, n: number): string {
  const t = Date.now() - job.events * 1000;
  const events = Array.from({ length: job.events }, (_, i) => ({
    type: 'heartbeat',
    t: t + i * 1000,
    position: i + 1,
    watched: 1,
    height: [360, 720, 1080][n % 3],
    playerHeight: 720,
    bitrate: 2_000_000,
  }));
  return JSON.stringify({
    videoId: job.videos[n % job.videos.length],
    sessionId: `bench-session-${process.pid}-${Math.floor(n / 20)}`,
    viewerId: `bench-viewer-${process.pid}-${Math.floor(n / 20)}`,
    seq: n % 20,
    events,
  });
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  const url = new URL('/api/v1/playback/events', job.baseUrl);
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: job.mode === 'closed' ? job.connections : 256,
  });
  const result = { batches: 0, events: 0, errors: 0, seconds: 0 };
  const latenciesMs: number[] = [];
  const start = performance.now();
  const deadline = start + job.seconds * 1000;
  const record = (status: number, startedAt: number) => {
    if (status !== 202) {
      result.errors++;
      return;
    }
    result.batches++;
    result.events += job.events;
    latenciesMs.push(performance.now() - startedAt);
  };
  let next = 0;
  if (job.mode === 'closed') {
    await Promise.all(
      Array.from({ length: job.connections }, async () => {
        while (performance.now() < deadline) {
          const body = batchOf(job, next++);
          const startedAt = performance.now();
          record(await post(agent, url, body).catch(() => 0), startedAt);
        }
      }),
    );
  } else {
    const pending: Promise<void>[] = [];
    const total = Math.round(job.rate * job.seconds);
    while (next < total) {
      const due = Math.min(total, Math.floor(((performance.now() - start) * job.rate) / 1000) + 1);
      for (; next < due; next++) {
        const scheduled = start + (next * 1000) / job.rate;
        pending.push(
          post(agent, url, batchOf(job, next)).then(
            (status) => record(status, scheduled),
            () => record(0, scheduled),
          ),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(pending);
  }
  result.seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return {
    ...result,
    p50: percentile(latenciesMs, 50),
    p95: percentile(latenciesMs, 95),
    p99: percentile(latenciesMs, 99),
  };
}

function runLoadProcess(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.filename, '--load-client', JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load client: ${code}`)),
    );
  });
}

if (values['load-client']) {
  const result = await runLoad(JSON.parse(values['load-client']) as LoadJob);
  process.stdout.write(JSON.stringify(result), () => process.exit(0));
  await new Promise(() => {}); // until the write above has gone out
}

// -------------------------------------------------------------------------------------------- ingest

const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const EVENTS = Number(values.events);
const VIDEOS = Number(values.videos);
const PG_URL = values.pg ?? process.env.TEST_DATABASE_URL;
const REDIS_URL = values.redis ?? process.env.TEST_REDIS_URL;
const ROOT = path.resolve(import.meta.dirname, '..');

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** `count` ready public videos named `bench…`. */
async function seedVideos(database: Database, count: number): Promise<string[]> {
  await migrate(database.db);
  await sql`
    insert into videos (id, title, description, tags, visibility, status, playable, duration_seconds, width, height, rotation,
      probe, source_key, source_size, updated_at, title_sort, search_tags, search_description, ready_at)
    select 'bv' || lpad(g::text, 10, '0'), 'Bench video ' || g, '', '{}', 'public', 'ready', true, 600, 1920, 1080, 0,
      '{}', 'sources/x', 1, now(), 'bench video ' || g, '', '', now()
    from generate_series(1, ${count}::int) g on conflict do nothing`.execute(database.db);
  return Array.from({ length: count }, (_, i) => `bv${String(i + 1).padStart(10, '0')}`);
}

async function startReel(env: Record<string, string>): Promise<{ baseUrl: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'src/cli.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      WORKERS: 'false',
      RATE_LIMIT_BEACONS_PER_MINUTE: '1000000000',
      RATE_LIMIT_BEACONS_PER_MINUTE_PER_VIEWER: '1000000000',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(`${baseUrl}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { baseUrl, child };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGKILL');
  throw new Error('reel did not start');
}

async function pendingBatches(baseUrl: string): Promise<number> {
  const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
  return Number(/^reel_view_batches_pending (\d+)$/m.exec(metrics)?.[1] ?? Number.NaN);
}

interface IngestFigures {
  name: string;
  eventsPerSecond: number;
  requestsPerSecond: number;
  drainSeconds: number;
  errors: number;
  rate: number;
  p50: number;
  p95: number;
  p99: number;
}

async function measureIngest(
  name: string,
  env: Record<string, string>,
  videos: string[],
  targetRate: number,
): Promise<IngestFigures> {
  const reel = await startReel(env);
  try {
    const job = {
      baseUrl: reel.baseUrl,
      connections: CONNECTIONS,
      events: EVENTS,
      videos,
      seconds: SECONDS,
      rate: 0,
    };
    await runLoadProcess({ ...job, mode: 'closed', seconds: 2 }); // warm-up: JIT, connections, first flushes
    while ((await pendingBatches(reel.baseUrl)) > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = await runLoadProcess({ ...job, mode: 'closed' });
    const drainStart = performance.now();
    while ((await pendingBatches(reel.baseUrl)) > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const eventsPerSecond = closed.events / (closed.seconds + drainSeconds);
    // Latency at half the target rate (the "p99 < 20 ms at half that rate").
    const rate = Math.max(1, Math.floor(targetRate / 2 / EVENTS));
    const open = await runLoadProcess({ ...job, mode: 'open', rate });
    return {
      name,
      eventsPerSecond,
      requestsPerSecond: closed.batches / closed.seconds,
      drainSeconds,
      errors: closed.errors + open.errors,
      rate: rate * EVENTS,
      p50: open.p50,
      p95: open.p95,
      p99: open.p99,
    };
  } finally {
    reel.child.kill('SIGTERM');
    await new Promise((resolve) => reel.child.once('exit', resolve));
  }
}

/** A database of its own on the PostgreSQL server, dropped by the returned function. */
async function scratchPostgres(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `reel_bench_${label}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const target = new URL(PG_URL!);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    async drop() {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

// --------------------------------------------------------------------------------------------- stats

/** A month of hourly buckets: each video watched in one hour out of ten. */
async function seedBuckets(database: Database, count: number): Promise<void> {
  await sql`
    insert into view_hourly (video_id, hour, sessions, views, watch_seconds, stall_seconds, stalls, startups,
      startup_histogram, failures, height_seconds, bitrate_seconds, bitrate_watched, retention, peak_concurrent)
    select 'bv' || lpad(v::text, 10, '0'), date_trunc('hour', now()) - h * interval '1 hour', 3, 2, 240, 3, 1, 3,
      '{"400": 1, "650": 1, "1250": 1}', 0, '{"720": 200, "1080": 40}', 480000000, 240,
      array_fill(1, array[101]), 2
    from generate_series(1, ${count}::int) v, generate_series(0, 719) h
    where (v + h) % 10 = 0`.execute(database.db);
  // The rollup over every video the flush keeps ('*'), as it would have summed these buckets.
  await sql`
    insert into view_hourly (video_id, hour, sessions, views, watch_seconds, stall_seconds, stalls, startups,
      startup_histogram, failures, height_seconds, bitrate_seconds, bitrate_watched, peak_concurrent)
    select '*', hour, sum(sessions), sum(views), sum(watch_seconds), sum(stall_seconds), sum(stalls), sum(startups),
      jsonb_build_object('400', count(*), '650', count(*), '1250', count(*)), 0,
      jsonb_build_object('720', 200 * count(*), '1080', 40 * count(*)), sum(bitrate_seconds), sum(bitrate_watched),
      sum(peak_concurrent)
    from view_hourly group by hour`.execute(database.db);
  await sql`
    insert into view_hourly_dims (video_id, hour, dimension, value, sessions, views, watch_seconds, stall_seconds, failures)
    select video_id, hour, d, case d when 'browser' then 'Chrome' when 'os' then 'Android' else 'phone' end, 3, 2, 240, 3, 0
    from view_hourly, unnest(array['browser', 'os', 'device']) d`.execute(database.db);
  // What autovacuum does on a live database: statistics, and the visibility map index-only scans need.
  await sql`
    insert into view_daily (video_id, day, views, watch_seconds, stall_seconds)
    select video_id, date_trunc('day', hour, 'UTC'), sum(views), sum(watch_seconds), sum(stall_seconds)
    from view_hourly where video_id <> '*' group by 1, 2`.execute(database.db);
  await sql`vacuum analyze view_daily`.execute(database.db);
  await sql`vacuum analyze view_hourly`.execute(database.db);
  await sql`vacuum analyze view_hourly_dims`.execute(database.db);
}

async function measureStats(name: string, database: Database, videos: string[]) {
  await seedBuckets(database, videos.length);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-bench-views-'));
  const app = await createApp(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), { database });
  try {
    const { secret } = await app.auth.apiKeys.create('bench', 'admin');
    const time = async (url: () => string, n: number) => {
      const samples: number[] = [];
      for (let i = 0; i < n + 5; i++) {
        const started = performance.now();
        const response = await app.http.inject({
          method: 'GET',
          url: url(),
          headers: { authorization: `Bearer ${secret}` },
        });
        if (response.statusCode !== 200) throw new Error(`${url()}: ${response.statusCode} ${response.body}`);
        if (i >= 5) samples.push(performance.now() - started);
      }
      return { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99) };
    };
    const random = () => videos[Math.floor(Math.random() * videos.length)];
    const video = await time(() => `/api/v1/videos/${random()}/stats`, 100);
    const overall = await time(() => '/api/v1/stats', 20);
    return { name, video, overall };
  } finally {
    await app.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------- main

const ingest: IngestFigures[] = [];
const stats: Array<Awaited<ReturnType<typeof measureStats>>> = [];
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-bench-views-'));
try {
  {
    const dataDir = path.join(work, 'pglite');
    const database = await openPGlite(path.join(dataDir, 'db'));
    const videos = await seedVideos(database, 100);
    await database.close();
    ingest.push(await measureIngest('PGlite', { DATA_DIR: dataDir }, videos, 3000));
  }
  if (PG_URL) {
    for (const withRedis of REDIS_URL ? [false, true] : [false]) {
      const scratch = await scratchPostgres('ingest');
      try {
        const database = await openPostgres(scratch.url);
        const videos = await seedVideos(database, 100);
        await database.close();
        const env: Record<string, string> = {
          DATA_DIR: path.join(work, `pg-${withRedis}`),
          DATABASE_URL: scratch.url,
        };
        if (withRedis)
          Object.assign(env, {
            REDIS_URL: REDIS_URL!,
            REDIS_KEY_PREFIX: `reel-bench-${randomBytes(4).toString('hex')}:`,
          });
        ingest.push(
          await measureIngest(withRedis ? 'PostgreSQL + Redis' : 'PostgreSQL', env, videos, 10_000),
        );
      } finally {
        await scratch.drop();
      }
    }
    const scratch = await scratchPostgres('stats');
    const database = await openPostgres(scratch.url);
    try {
      stats.push(
        await measureStats(
          `PostgreSQL, ${VIDEOS} videos × 30 days`,
          database,
          await seedVideos(database, VIDEOS),
        ),
      );
    } finally {
      await database.close();
      await scratch.drop();
    }
  }
  {
    const database = await openPGlite(undefined);
    try {
      const count = Math.min(VIDEOS, 2000);
      stats.push(
        await measureStats(`PGlite, ${count} videos × 30 days`, database, await seedVideos(database, count)),
      );
    } finally {
      await database.close();
    }
  }
} finally {
  await fs.rm(work, { recursive: true, force: true });
}

const f = (x: number) => x.toFixed(1);
console.log(
  `\nIngest (${CONNECTIONS} players, ${EVENTS} events a batch, ${SECONDS} s; targets: ≥ 10 000 events/s with Redis, ≥ 3 000 on PGlite, p99 < 20 ms at half rate)`,
);
for (const row of ingest) {
  console.log(
    `  ${row.name.padEnd(20)} ${Math.round(row.eventsPerSecond).toString().padStart(7)} events/s sustained ` +
      `(${Math.round(row.requestsPerSecond)} batches/s acked, backlog written in ${f(row.drainSeconds)} s, ${row.errors} errors); ` +
      `at ${row.rate} events/s: p50 ${f(row.p50)} / p95 ${f(row.p95)} / p99 ${f(row.p99)} ms`,
  );
}
console.log('\nStats (ms, p50 / p95 / p99; target p95 < 100)');
for (const row of stats) {
  console.log(
    `  ${row.name.padEnd(34)} video: ${f(row.video.p50)} / ${f(row.video.p95)} / ${f(row.video.p99)}   all videos: ${f(row.overall.p50)} / ${f(row.overall.p95)} / ${f(row.overall.p99)}`,
  );
}
