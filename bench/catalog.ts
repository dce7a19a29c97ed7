/**
 * Catalog and search benchmark (issue 9): N generated videos (Zipf-distributed words in titles, tags and
 * descriptions), then, over HTTP against a real Reel: search p50/p95/p99 for a fixed mix (one word, two
 * words, a phrase, a prefix, one typo, a filter), list p95 (first page and the 50th page by cursor) and
 * suggest p95, with the catalog cache off (CACHE_TTL_SECONDS=0) and on; and the same search SQL through a
 * bare `pg`/PGlite query (the floor).
 *
 *   node bench/catalog.ts [--rows 100000] [--small 10000] [--requests 200] [--pg postgres://…]
 *
 * Runs on PGlite always and on PostgreSQL when --pg (or TEST_DATABASE_URL) is given (a database of its
 * own, dropped at the end). Prints each figure at --small and --rows rows, and the growth between them.
 * Targets: search p95 < 50 ms on PostgreSQL at 100k (cache off), < 5 ms cached; list p95 < 20 ms; suggest
 * p95 < 10 ms.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { type Database, openPGlite, openPostgres } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrations.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    small: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '200' },
    pg: { type: 'string' },
  },
});
const ROWS = Number(values.rows);
const SMALL = Number(values.small);
const REQUESTS = Number(values.requests);
const PG_URL = values.pg ?? process.env.TEST_DATABASE_URL;

/** 400 words; word i is drawn with weight 1/(i+1) (Zipf), so a few are common and most are rare. */
const WORDS = Array.from({ length: 400 }, (_, i) => {
  const syllables = ['ka', 'lo', 'mi', 'ne', 'su', 'ta', 'ri', 'vo', 'de', 'gu', 'pa', 'zen'];
  let word = '';
  for (let n = i + 7; word.length < 5 + (i % 6); n = Math.floor(n / 3) + i)
    word += syllables[n % syllables.length];
  return word;
});
WORDS.splice(0, 4, 'video', 'tutorial', 'kubernetes', 'music');

/** Inserts `count` ready public videos, generated in SQL (fast on both databases). */
async function seed(database: Database, from: number, count: number): Promise<void> {
  await sql`
    with words as (select ${WORDS}::text[] as w),
    picks as (
      select g,
        (select string_agg(w[1 + floor(power(random(), 3) * array_length(w, 1))::int + 0 * (s + g)], ' ') from generate_series(1, 4) s) as title,
        (select array_agg(distinct w[1 + floor(power(random(), 3) * array_length(w, 1))::int + 0 * (s + g)]) from generate_series(1, 3) s) as tags,
        (select string_agg(w[1 + floor(power(random(), 2) * array_length(w, 1))::int + 0 * (s + g)], ' ') from generate_series(1, 30) s) as description
      from generate_series(${from}::int, ${from + count - 1}::int) g, words
    )
    insert into videos (id, title, description, tags, visibility, status, duration_seconds, width, height, rotation,
      probe, source_key, source_size, updated_at, created_at, title_sort, search_tags, search_description, ready_at)
    select 'b' || lpad(g::text, 11, '0'), title, description, tags, 'public', 'ready', 10 + (g % 600), 1920, 1080, 0,
      '{}', 'sources/x/original.mp4', 1, now(), now() - (g * interval '1 second'), title,
      array_to_string(tags, ' '), description, now()
    from picks`.execute(database.db);
  await sql`insert into search_words select distinct unnest(${WORDS}::text[]) on conflict do nothing`.execute(
    database.db,
  );
  await sql`analyze videos`.execute(database.db);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function time(run: () => Promise<unknown>, n = REQUESTS) {
  for (let i = 0; i < 10; i++) await run(); // warm: plans cached, pages in memory
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99) };
}

const SEARCHES = ['kubernetes', 'video tutorial', '"video tutorial"', 'kub', 'vidoe', 'music&category=music'];

type Figures = Record<string, { p50: number; p95: number; p99: number }>;

/** The HTTP figures of one Reel over `database`, with the catalog cache on or off. */
async function timeApp(database: Database, cache: 'on' | 'off'): Promise<Figures> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-bench-catalog-'));
  const env = { DATA_DIR: dir, LOG_LEVEL: 'silent', CACHE_TTL_SECONDS: cache === 'on' ? '300' : '0' };
  const app = await createApp(loadConfig(env), { database });
  try {
    const get = async (url: string) => {
      const response = await app.http.inject({ method: 'GET', url });
      if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
      return response.json();
    };
    let i = 0;
    const search = await time(() =>
      get(
        `/api/v1/search?q=${encodeURIComponent(SEARCHES[i++ % SEARCHES.length]!)
          .replace('%26', '&')
          .replace('%3D', '=')}`,
      ),
    );
    const firstPage = await time(() => get('/api/v1/videos?limit=24'));
    let cursor = '';
    for (let page = 0; page < 49; page++)
      cursor = (await get(`/api/v1/videos?limit=24${cursor ? `&cursor=${cursor}` : ''}`)).nextCursor;
    const page50 = await time(() => get(`/api/v1/videos?limit=24&cursor=${cursor}`));
    const suggest = await time(() => get('/api/v1/search/suggest?q=kub'));
    return { search, firstPage, page50, suggest };
  } finally {
    await app.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function measure(name: string, database: Database) {
  const results: Record<string, Figures> = {};
  const cached: Record<string, Figures> = {};
  await migrate(database.db);
  for (const [label, total] of [
    [`${SMALL / 1000}k`, SMALL],
    [`${ROWS / 1000}k`, ROWS],
  ] as const) {
    const have = Number(
      (await sql<{ n: number }>`select count(*)::int as n from videos`.execute(database.db)).rows[0]!.n,
    );
    if (have < total) await seed(database, have, total - have);
    const floor = await time(() =>
      sql`select id from videos where status = 'ready' and visibility = 'public'
        and search_vector @@ to_tsquery('simple', 'kubernetes')
        order by ts_rank(search_vector, to_tsquery('simple', 'kubernetes')) desc, id collate "C" limit 25`.execute(
        database.db,
      ),
    );
    results[label] = { ...(await timeApp(database, 'off')), floor };
    cached[label] = await timeApp(database, 'on');
  }
  print(`${name}, cache off`, results);
  print(`${name}, cache on (L1 in process)`, cached);
}

function print(name: string, results: Record<string, Figures>) {
  const [small, large] = Object.keys(results) as [string, string];
  console.log(`\n${name}  (ms; p50 / p95 / p99; growth = p95 at ${large} ÷ p95 at ${small})`);
  for (const metric of Object.keys(results[large]!)) {
    const a = results[small]![metric]!;
    const b = results[large]![metric]!;
    const f = (x: { p50: number; p95: number; p99: number }) =>
      `${x.p50.toFixed(1)} / ${x.p95.toFixed(1)} / ${x.p99.toFixed(1)}`;
    console.log(
      `  ${metric.padEnd(10)} ${small}: ${f(a).padEnd(22)} ${large}: ${f(b).padEnd(22)} growth ${(b.p95 / a.p95).toFixed(2)}×`,
    );
  }
}

const pglite = await openPGlite(undefined);
try {
  await measure('PGlite (in memory)', pglite);
} finally {
  await pglite.close();
}
if (PG_URL) {
  const name = `reel_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const target = new URL(PG_URL);
  target.pathname = `/${name}`;
  const database = await openPostgres(target.toString());
  try {
    await measure('PostgreSQL', database);
  } finally {
    await database.close();
    await admin.query(`drop database ${name}`);
    await admin.end();
  }
}
