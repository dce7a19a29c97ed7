import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openPostgres } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrations.ts';
import { listIds, listPage, patchVideo, seedVideo } from './support/catalog.ts';
import { startTestApp, type TestApp } from './support/harness.ts';

const databaseUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;

/** A write that bypasses Reel (as another tool or a replica's lag would): only the cache hides it. */
async function retitleBehindReelsBack(t: TestApp, id: string, title: string): Promise<void> {
  await t.app.database.db.updateTable('videos').set({ title }).where('id', '=', id).execute();
}

async function get(t: TestApp, url: string, auth?: string | null) {
  const response = await t.request({ method: 'GET', url, auth });
  assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
  return response.json();
}

/** This node's cache statistics, asked with an admin key (the harness's key unless `auth`). */
async function cacheStats(t: TestApp, auth?: string) {
  return get(t, '/api/v1/admin/cache', auth);
}

describe('catalog cache (one node, PGlite)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
    await seedVideo(t, 'cacheVideo01', { title: 'Original title', tags: ['cached'] });
  });
  after(() => t.close());

  it('50 concurrent requests for one uncached page cause one database load', async () => {
    const before = (await cacheStats(t)).namespaces.catalog ?? { misses: 0, l1Hits: 0 };
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => get(t, '/api/v1/videos?sort=title', null)),
    );
    for (const answer of answers) assert.deepEqual(answer, answers[0]);
    const after = (await cacheStats(t)).namespaces.catalog;
    // One miss (the one load); the 49 others waited for it without reading the cache or the database.
    assert.equal(after.misses - before.misses, 1);
    await get(t, '/api/v1/videos?sort=title', null);
    assert.equal((await cacheStats(t)).namespaces.catalog.l1Hits - after.l1Hits, 1);
  });

  it('serves lists, searches and the video from the cache, and an edit through the API is seen at once', async () => {
    const id = 'cacheVideo01';
    await get(t, '/api/v1/videos', null);
    await get(t, '/api/v1/search?q=original', null);
    await get(t, `/api/v1/videos/${id}`, null);
    await retitleBehindReelsBack(t, id, 'Changed behind its back');
    assert.equal((await get(t, '/api/v1/videos', null)).items[0].title, 'Original title');
    assert.equal((await get(t, '/api/v1/search?q=original', null)).items[0].title, 'Original title');
    assert.equal((await get(t, `/api/v1/videos/${id}`, null)).title, 'Original title');

    assert.equal((await patchVideo(t, id, { title: 'Edited title' })).statusCode, 200);
    assert.equal((await get(t, '/api/v1/videos', null)).items[0].title, 'Edited title');
    assert.equal((await get(t, `/api/v1/videos/${id}`, null)).title, 'Edited title');
    assert.deepEqual((await get(t, '/api/v1/search?q=original', null)).items, []);
    assert.equal((await get(t, '/api/v1/search?q=edited', null)).items[0].id, id);
  });

  it('a deleted video leaves lists and search at once', async () => {
    await seedVideo(t, 'cacheDelete1', { title: 'Ephemeral clip' });
    await patchVideo(t, 'cacheDelete1', { tags: ['ephemeral'] }); // announces: the lists below are fresh
    assert.ok((await listIds(t, '', null)).includes('cacheDelete1'));
    assert.equal((await get(t, '/api/v1/search?q=ephemeral', null)).items.length, 1);
    const deleted = await t.request({ method: 'DELETE', url: '/api/v1/videos/cacheDelete1' });
    assert.equal(deleted.statusCode, 204);
    assert.ok(!(await listIds(t, '', null)).includes('cacheDelete1'));
    assert.deepEqual((await get(t, '/api/v1/search?q=ephemeral', null)).items, []);
  });

  it("a key holder's own view is never served from the shared cache", async () => {
    await listPage(t, 'status=ready');
    await retitleBehindReelsBack(t, 'cacheVideo01', 'Owner sees this now');
    assert.equal((await listPage(t, 'status=ready')).items[0].title, 'Owner sees this now');
  });

  it('GET /api/v1/admin/cache: admin keys only; /metrics exports the same counters', async () => {
    const member = await t.app.auth.apiKeys.create('member', 'member');
    assert.equal(
      (await t.request({ method: 'GET', url: '/api/v1/admin/cache', auth: null })).statusCode,
      401,
    );
    const refused = await t.request({ method: 'GET', url: '/api/v1/admin/cache', auth: member.secret });
    assert.deepEqual([refused.statusCode, refused.json().error.code], [403, 'FORBIDDEN']);
    const stats = await cacheStats(t);
    assert.equal(stats.l2, 'off');
    assert.ok(stats.entries > 0);
    const catalog = stats.namespaces.catalog;
    assert.ok(catalog.l1Hits > 0 && catalog.misses > 0);
    assert.equal(catalog.hitRatio, catalog.l1Hits / (catalog.l1Hits + catalog.misses));
    const metrics = (await t.request({ method: 'GET', url: '/metrics', auth: null })).body;
    assert.match(
      metrics,
      new RegExp(`reel_cache_requests_total\\{namespace="catalog",result="miss"\\} ${catalog.misses}`),
    );
    assert.match(metrics, /reel_cache_entries \d+/);
  });
});

describe('catalog cache off (CACHE_TTL_SECONDS=0)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { CACHE_TTL_SECONDS: '0' } });
    await seedVideo(t, 'uncached0001', { title: 'First' });
  });
  after(() => t.close());

  it('every read goes to the database', async () => {
    assert.equal((await get(t, '/api/v1/videos', null)).items[0].title, 'First');
    await retitleBehindReelsBack(t, 'uncached0001', 'Second');
    assert.equal((await get(t, '/api/v1/videos', null)).items[0].title, 'Second');
    assert.equal((await get(t, '/api/v1/videos/uncached0001', null)).title, 'Second');
  });
});

describe('catalog cache with Redis unreachable', () => {
  let t: TestApp;
  const logs: Array<{ level: number; msg: string }> = [];
  before(async () => {
    t = await startTestApp({
      env: { REDIS_URL: 'redis://127.0.0.1:1' }, // nothing listens on port 1
      logger: { level: 'warn', stream: { write: (line: string) => logs.push(JSON.parse(line)) } },
    });
    await seedVideo(t, 'noRedis00001', { title: 'Still served' });
  });
  after(() => t.close());

  it('answers from this process and the database, never a 500, with one warning', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await get(t, '/api/v1/videos', null)).items[0].title, 'Still served');
      assert.equal((await get(t, '/api/v1/search?q=still', null)).items[0].id, 'noRedis00001');
      assert.equal((await get(t, '/api/v1/videos/noRedis00001', null)).title, 'Still served');
      assert.equal((await get(t, '/api/v1/search/suggest?q=sti', null)).items[0].text, 'Still served');
    }
    assert.equal((await patchVideo(t, 'noRedis00001', { title: 'Edited offline' })).statusCode, 200);
    assert.equal((await get(t, '/api/v1/videos', null)).items[0].title, 'Edited offline');
    assert.equal((await cacheStats(t)).l2, 'down');
    const warnings = logs.filter((line) => line.level === 40 && /Redis unreachable/.test(line.msg));
    assert.equal(warnings.length, 1, JSON.stringify(logs.map((line) => line.msg)));
  });
});

/** A database of its own on the test PostgreSQL server; dropped at the end. */
async function scratchDatabase(admin: pg.Client, label: string): Promise<string> {
  const name = `reel_test_${label}_${randomBytes(4).toString('hex')}`;
  await admin.query(`create database ${name}`);
  const url = new URL(databaseUrl!);
  url.pathname = `/${name}`;
  return url.toString();
}

describe('two API nodes on PostgreSQL + Redis', {
  skip: databaseUrl && redisUrl ? undefined : 'needs TEST_DATABASE_URL and TEST_REDIS_URL',
}, () => {
  let admin: pg.Client;
  let url: string;
  const nodes: TestApp[] = [];
  before(async () => {
    admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    url = await scratchDatabase(admin, 'nodes');
    // One deployment: both nodes share the Redis prefix (other test runs on this Redis do not).
    const env = {
      DATABASE_URL: url,
      REDIS_URL: redisUrl!,
      REDIS_KEY_PREFIX: `reel-test-${randomBytes(4).toString('hex')}:`,
    };
    for (let i = 0; i < 2; i++) nodes.push(await startTestApp({ database: await openPostgres(url), env }));
    await seedVideo(nodes[0]!, 'twoNodes0001', { title: 'Before the edit' });
  });
  after(async () => {
    for (const node of nodes) {
      const database = node.app.database;
      await node.close();
      await database.close();
    }
    await admin.query(`drop database if exists ${new URL(url).pathname.slice(1)}`);
    await admin.end();
  });

  it('an edit on one node is seen by the other within a second (pub/sub), from lists, search and by id', async () => {
    const [a, b] = nodes as [TestApp, TestApp];
    assert.equal((await get(b, '/api/v1/videos', null)).items[0].title, 'Before the edit');
    assert.equal((await get(b, '/api/v1/videos/twoNodes0001', null)).title, 'Before the edit');
    // Node b now answers from its cache (a write behind Reel's back stays hidden there) …
    await retitleBehindReelsBack(a, 'twoNodes0001', 'Hidden by the cache');
    assert.equal((await get(b, '/api/v1/videos', null)).items[0].title, 'Before the edit');
    // … until node a edits through the API.
    const edited = Date.now();
    assert.equal((await patchVideo(a, 'twoNodes0001', { title: 'After the edit' })).statusCode, 200);
    for (;;) {
      const list = await get(b, '/api/v1/videos', null);
      const video = await get(b, '/api/v1/videos/twoNodes0001', null);
      if (list.items[0].title === 'After the edit' && video.title === 'After the edit') break;
      assert.ok(Date.now() - edited < 1000, 'node b still serves the old title after 1 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await get(b, '/api/v1/search?q=after', null)).items[0].id, 'twoNodes0001');
  });

  it('a page one node loaded is a Redis (L2) hit on the other', async () => {
    const [a, b] = nodes as [TestApp, TestApp];
    await get(a, '/api/v1/videos?sort=duration', null);
    const before = (await cacheStats(b, a.apiKey)).namespaces.catalog?.l2Hits ?? 0;
    await get(b, '/api/v1/videos?sort=duration', null);
    assert.equal((await cacheStats(b, a.apiKey)).namespaces.catalog.l2Hits - before, 1);
    assert.equal((await cacheStats(b, a.apiKey)).l2, 'up');
  });
});

describe('DATABASE_READ_URL', { skip: databaseUrl ? undefined : 'needs TEST_DATABASE_URL' }, () => {
  let admin: pg.Client;
  let primaryUrl: string;
  let replicaUrl: string;
  let t: TestApp;
  before(async () => {
    admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    primaryUrl = await scratchDatabase(admin, 'primary');
    // The "replica": a second database with the schema and none of the primary's rows, so every answer
    // tells which connection served it.
    replicaUrl = await scratchDatabase(admin, 'replica');
    const replica = await openPostgres(replicaUrl);
    await migrate(replica.db);
    await replica.close();
    t = await startTestApp({
      database: await openPostgres(primaryUrl),
      env: { DATABASE_URL: primaryUrl, DATABASE_READ_URL: replicaUrl, CACHE_TTL_SECONDS: '0' },
    });
    await seedVideo(t, 'onPrimary001', { title: 'Written to the primary', tags: ['primary'] });
  });
  after(async () => {
    const database = t?.app.database;
    await t?.close();
    await database?.close();
    for (const target of [primaryUrl, replicaUrl]) {
      if (target) await admin.query(`drop database if exists ${new URL(target).pathname.slice(1)}`);
    }
    await admin.end();
  });

  it('public lists, search, suggestions and tags read the replica', async () => {
    assert.deepEqual((await get(t, '/api/v1/videos', null)).items, []);
    assert.deepEqual((await get(t, '/api/v1/videos')).items, [], 'a key holder browsing the public list too');
    assert.deepEqual((await get(t, '/api/v1/search?q=primary', null)).items, []);
    assert.deepEqual((await get(t, '/api/v1/search/suggest?q=writ', null)).items, []);
    assert.deepEqual((await get(t, '/api/v1/tags', null)).items, []);
  });

  it("a key holder's own view and a video by id read the primary (read-your-writes)", async () => {
    assert.deepEqual(await listIds(t, 'status=ready'), ['onPrimary001']);
    assert.equal((await get(t, '/api/v1/videos/onPrimary001', null)).title, 'Written to the primary');
    assert.equal((await patchVideo(t, 'onPrimary001', { title: 'Edited on the primary' })).statusCode, 200);
    assert.equal((await listPage(t, 'status=ready')).items[0].title, 'Edited on the primary');
  });
});
