import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  errorOf,
  listIds,
  listPage,
  patchVideo,
  type SeedOptions,
  seedVideo,
  walkList,
} from './support/catalog.ts';
import { startTestApp, type TestApp } from './support/harness.ts';
import { makeClip } from './support/media.ts';
import { chunkOf, createSession, putChunk } from './support/uploads.ts';

const q = encodeURIComponent;
/** A cursor's parts, as the API encodes them (an opaque base64url JSON array: query fingerprint, key, id). */
const cursorParts = (cursor: string): [string, string, string] =>
  JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
const forgeCursor = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString('base64url');

describe('catalog list: who sees what, filters, sorts, cursors', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  // Public and ready: the only videos of the default list. Creation dates are not in id order on purpose.
  const P1 = 'catPub000001';
  const P2 = 'catPub000002';
  const P3 = 'catPub000003';
  const P4 = 'catPub000004';
  const P5 = 'catPub000005';
  const P6 = 'catPub000006';
  // Never in the default list.
  const UNLISTED = 'hidUnlisted1'; // alice, ready
  const PRIVATE_A = 'hidPrivate01'; // alice, ready
  const PROC_A = 'hidProcess01'; // alice, processing, public
  const PROC_B = 'hidProcess02'; // bob, processing, public
  const PROC_X = 'hidProcess03'; // no owner, processing, private
  const FAILED_A = 'hidFailed001'; // alice, failed, public
  const DELETED_A = 'hidDeleted01'; // alice, deleted, public
  const PRIVATE_B = 'hidPrivate02'; // bob, ready

  before(async () => {
    t = await startTestApp();
    const a = await t.app.auth.apiKeys.create('alice', 'member');
    const b = await t.app.auth.apiKeys.create('bob', 'member');
    alice = a.secret;
    bob = b.secret;
    const [A, B] = [a.key.id, b.key.id];
    // [id, title, created (2024-…), seconds, category, tags, owner, more]
    type Row = [string, string, string, number, string | null, string[], string | null, SeedOptions?];
    const rows: Row[] = [
      [P1, 'Fox', '03-01', 30, 'music', ['rock', 'jazz'], A],
      [P2, 'Éclair', '06-01', 5.5, 'food', ['rock'], B],
      [P3, 'apple', '01-01', 120, 'music', ['jazz', 'blues'], null],
      [P4, 'Delta', '05-01', 60, null, ['rockabilly', 'rock', 'été'], A],
      [P5, 'Zebra', '02-01', 2, 'sports', ['r%x', 'r_y', 'rax'], B],
      [P6, 'eclair', '04-01', 60, 'food', ['blues'], A],
      // Hidden ones carry the public tags too (and some of their own), so a leak changes counts and lists.
      [UNLISTED, 'u', '07-01', 2, 'music', ['rock', 'robot'], A, { visibility: 'unlisted' }],
      [PRIVATE_A, 'p', '07-02', 2, 'music', ['rock', 'robot'], A, { visibility: 'private' }],
      [PROC_A, 'pa', '07-03', 2, 'music', ['rock', 'roadtrip'], A, { status: 'processing' }],
      [PROC_B, 'pb', '07-04', 2, null, ['rock'], B, { status: 'processing' }],
      [PROC_X, 'px', '07-05', 2, null, ['rock'], null, { status: 'processing', visibility: 'private' }],
      [FAILED_A, 'f', '07-06', 2, 'music', ['rock', 'rocket'], A, { status: 'failed' }],
      [DELETED_A, 'd', '07-07', 2, 'music', ['rock', 'rocket'], A, { status: 'deleted' }],
      [PRIVATE_B, 'pb', '07-08', 2, null, ['rock', 'robot'], B, { visibility: 'private' }],
    ];
    for (const [id, title, day, seconds, category, tags, owner, more] of rows) {
      await seedVideo(t, id, {
        title,
        createdAt: `2024-${day}T00:00:00Z`,
        duration_seconds: seconds,
        category,
        tags,
        owner_key_id: owner,
        ...more,
      });
    }
  });
  after(() => t.close());

  const NEWEST = [P2, P4, P6, P1, P5, P3];

  it('by default: public ready videos only, newest first, to anonymous, the admin and a member alike', async () => {
    assert.deepEqual(await listIds(t, '', null), NEWEST);
    assert.deepEqual(await listIds(t, 'sort=newest', null), NEWEST);
    assert.deepEqual(await listIds(t, ''), NEWEST);
    assert.deepEqual(await listIds(t, '', alice), NEWEST);
    assert.deepEqual(await listIds(t, '', bob), NEWEST);
  });

  it('an item has what a grid needs; visibility and status only for an API key', async () => {
    const readyAt = (
      await t.app.database.db
        .selectFrom('videos')
        .select('ready_at')
        .where('id', '=', P2)
        .executeTakeFirstOrThrow()
    ).ready_at;
    const expected = {
      id: P2,
      title: 'Éclair',
      durationSeconds: 5.5,
      width: 320,
      height: 180,
      poster: null,
      posters: [],
      storyboard: null,
      createdAt: '2024-06-01T00:00:00.000Z',
      readyAt: new Date(readyAt as Date).toISOString(),
      views: 0,
      tags: ['rock'],
      category: 'food',
    };
    const anonymous = await listPage(t, 'limit=1', null);
    assert.deepEqual(anonymous.items, [expected]);
    const keyed = await listPage(t, 'limit=1', alice);
    assert.deepEqual(keyed.items, [{ ...expected, visibility: 'public', status: 'ready' }]);
  });

  it('owner=me: the key’s own videos in any visibility and status but deleted, newest first', async () => {
    const own = await listPage(t, 'owner=me', alice);
    assert.deepEqual(
      own.items.map((item) => item.id),
      [FAILED_A, PROC_A, PRIVATE_A, UNLISTED, P4, P6, P1],
    );
    assert.deepEqual(
      own.items.slice(0, 4).map((item) => [item.visibility, item.status]),
      [
        ['public', 'failed'],
        ['public', 'processing'],
        ['private', 'ready'],
        ['unlisted', 'ready'],
      ],
    );
    assert.deepEqual(await listIds(t, 'owner=me', bob), [PRIVATE_B, PROC_B, P2, P5]);
    assert.deepEqual(await listIds(t, 'owner=me&status=ready', alice), [PRIVATE_A, UNLISTED, P4, P6, P1]);
    assert.deepEqual(await listIds(t, 'owner=me&category=music', alice), [
      FAILED_A,
      PROC_A,
      PRIVATE_A,
      UNLISTED,
      P1,
    ]);
  });

  it('owner=me and status need an API key: anonymous → 401 AUTH_REQUIRED', async () => {
    for (const query of ['owner=me', 'status=processing', 'status=ready']) {
      assert.deepEqual(
        await errorOf(t.request({ method: 'GET', url: `/api/v1/videos?${query}`, auth: null })),
        [401, 'AUTH_REQUIRED'],
        query,
      );
    }
    assert.deepEqual(await errorOf(t.request({ method: 'GET', url: '/api/v1/videos?status=deleted' })), [
      400,
      'VALIDATION_FAILED',
    ]);
  });

  it('status=: an admin sees every video in that status, a member only its own', async () => {
    assert.deepEqual(await listIds(t, 'status=processing'), [PROC_X, PROC_B, PROC_A]);
    assert.deepEqual(await listIds(t, 'status=processing', alice), [PROC_A]);
    assert.deepEqual(await listIds(t, 'status=processing', bob), [PROC_B]);
    assert.deepEqual(await listIds(t, 'status=failed'), [FAILED_A]);
    assert.deepEqual(await listIds(t, 'status=failed', bob), []);
    assert.deepEqual(await listIds(t, 'status=ready'), [PRIVATE_B, PRIVATE_A, UNLISTED, ...NEWEST]);
  });

  it('filters: category, tags (any/all, normalised), duration bounds, upload dates', async () => {
    const cases: Array<[string, string[]]> = [
      ['category=music', [P1, P3]],
      ['category=food', [P2, P6]],
      ['category=kids', []],
      ['tag=rock', [P2, P4, P1]],
      [`tag=ROCK`, [P2, P4, P1]],
      [`tag=${q('  Rock ')}`, [P2, P4, P1]],
      [`tag=${q('ÉTÉ')}`, [P4]],
      [`tag=${q('E\u0301TE\u0301')}`, [P4]], // NFD spelling
      ['tag=jazz&tag=blues', [P6, P1, P3]],
      ['tag=jazz&tag=blues&tagMode=any', [P6, P1, P3]],
      ['tag=jazz&tag=blues&tagMode=all', [P3]],
      ['tag=Rock&tag=JAZZ&tagMode=all', [P1]],
      ['tag=robot', []],
      ['tag=rock&category=food', [P2]],
      ['durationMin=30&durationMax=60', [P4, P6, P1]],
      ['durationMin=5.5', [P2, P4, P6, P1, P3]],
      ['durationMax=5.4', [P5]],
      ['uploadedAfter=2024-02-15T00:00:00Z&uploadedBefore=2024-04-15T00:00:00Z', [P6, P1]],
      ['uploadedAfter=2024-04-15', [P2, P4]],
      ['uploadedBefore=2024-02-15T00:00:00Z', [P5, P3]],
      ['uploadedAfter=2025-01-01T00:00:00Z', []],
    ];
    for (const [query, expected] of cases) assert.deepEqual(await listIds(t, query, null), expected, query);
  });

  it('a bad date or duration → 400 VALIDATION_FAILED', async () => {
    for (const query of [
      'uploadedAfter=yesterday',
      'uploadedBefore=2024-13-45',
      'durationMin=-1',
      'durationMax=abc',
    ]) {
      assert.deepEqual(
        await errorOf(t.request({ method: 'GET', url: `/api/v1/videos?${query}`, auth: null })),
        [400, 'VALIDATION_FAILED'],
        query,
      );
    }
  });

  it('sorts: oldest, duration (shortest first), title (folded A→Z), views and trending (ties by id)', async () => {
    assert.deepEqual(await listIds(t, 'sort=oldest', null), [P3, P5, P1, P6, P4, P2]);
    // 60 s twice: the id breaks the tie.
    assert.deepEqual(await listIds(t, 'sort=duration', null), [P5, P2, P1, P4, P6, P3]);
    // apple, Delta, Éclair = eclair (tie by id), Fox, Zebra: accents and case folded, not code-point order.
    assert.deepEqual(await listIds(t, 'sort=title', null), [P3, P4, P2, P6, P1, P5]);
    // Every count is 0 until the views issue: the order is the id's, descending like the sort.
    assert.deepEqual(await listIds(t, 'sort=views', null), [P6, P5, P4, P3, P2, P1]);
    assert.deepEqual(await listIds(t, 'sort=trending', null), [P6, P5, P4, P3, P2, P1]);
    assert.deepEqual(await listIds(t, 'sort=title&category=food', null), [P2, P6]);
    assert.deepEqual(await errorOf(t.request({ method: 'GET', url: '/api/v1/videos?sort=relevance' })), [
      400,
      'VALIDATION_FAILED',
    ]);
  });

  it('every sort pages through with limit=2, the same items in the same order as one page', async () => {
    for (const sort of ['newest', 'oldest', 'duration', 'title', 'views', 'trending']) {
      const whole = await listIds(t, `sort=${sort}`, null);
      const { pages } = await walkList(t, `sort=${sort}&limit=2`, { auth: null });
      assert.deepEqual(pages, [whole.slice(0, 2), whole.slice(2, 4), whole.slice(4, 6)], sort);
    }
    const own = await walkList(t, 'owner=me&limit=3', { auth: alice });
    assert.deepEqual(own.pages, [[FAILED_A, PROC_A, PRIVATE_A], [UNLISTED, P4, P6], [P1]]);
  });

  it('a cursor is refused with another sort, filter or key: 400 LIST_CURSOR_INVALID', async () => {
    const first = await listPage(t, 'limit=2', null);
    assert.ok(first.nextCursor);
    const cursor = q(first.nextCursor);
    assert.deepEqual(await listIds(t, `limit=2&cursor=${cursor}`, null), [P6, P1]);
    // The limit is not part of the query: a page may be longer or shorter.
    assert.deepEqual(await listIds(t, `limit=10&cursor=${cursor}`, null), [P6, P1, P5, P3]);
    for (const query of [
      'sort=oldest',
      'sort=views',
      'category=music',
      'tag=rock',
      'durationMin=1',
      'uploadedAfter=2020-01-01',
    ]) {
      assert.deepEqual(
        await errorOf(
          t.request({ method: 'GET', url: `/api/v1/videos?${query}&cursor=${cursor}`, auth: null }),
        ),
        [400, 'LIST_CURSOR_INVALID'],
        query,
      );
    }
    const own = await listPage(t, 'owner=me&limit=2', alice);
    assert.ok(own.nextCursor);
    assert.deepEqual(
      await errorOf(
        t.request({
          method: 'GET',
          url: `/api/v1/videos?owner=me&limit=2&cursor=${q(own.nextCursor)}`,
          auth: bob,
        }),
      ),
      [400, 'LIST_CURSOR_INVALID'],
    );
  });

  it('a garbage or forged cursor → 400 LIST_CURSOR_INVALID, never a 500', async () => {
    const newest = await listPage(t, 'limit=2', null);
    const byViews = await listPage(t, 'sort=views&limit=2', null);
    const byDuration = await listPage(t, 'sort=duration&limit=2', null);
    const byTitle = await listPage(t, 'sort=title&limit=2', null);
    const [fpNewest, , idNewest] = cursorParts(newest.nextCursor as string);
    const [fpViews] = cursorParts(byViews.nextCursor as string);
    const [fpDuration] = cursorParts(byDuration.nextCursor as string);
    const [fpTitle] = cursorParts(byTitle.nextCursor as string);
    const cases: Array<[string, string]> = [
      ['', 'garbage'],
      ['', '!!!!'],
      ['', forgeCursor({ a: 1 })],
      ['', forgeCursor([fpNewest, 'x'])],
      ['', forgeCursor([fpNewest, 1, idNewest])],
      ['', forgeCursor([fpNewest, 'yesterday', idNewest])],
      ['', forgeCursor([fpNewest, "2024-01-01'; drop table videos; --", idNewest])],
      // Shaped like a timestamp, but no such date.
      ['', forgeCursor([fpNewest, '2024-13-45 25:61:61+00', idNewest])],
      // Shaped like an int8, but beyond its range.
      ['sort=views&', forgeCursor([fpViews, '9999999999999999999', idNewest])],
      // Shaped like a float8, but beyond its range.
      ['sort=duration&', forgeCursor([fpDuration, '1e999', idNewest])],
      // Text PostgreSQL cannot store.
      ['sort=title&', forgeCursor([fpTitle, 'a\u0000b', idNewest])],
      ['', forgeCursor([fpNewest, cursorParts(newest.nextCursor as string)[1], 'a\u0000b'])],
    ];
    // Every case is asked, then all are compared at once: a failure lists each cursor that was not refused.
    const answers: string[] = [];
    for (const [query, cursor] of cases) {
      const answer = await t.request({
        method: 'GET',
        url: `/api/v1/videos?${query}limit=2&cursor=${q(cursor)}`,
        auth: null,
      });
      const label = `${query}${Buffer.from(cursor, 'base64url').toString('utf8')}`;
      answers.push(`${label} → ${answer.statusCode} ${answer.json().error?.code}`);
    }
    assert.deepEqual(
      answers,
      cases.map(
        ([query, cursor]) =>
          `${query}${Buffer.from(cursor, 'base64url').toString('utf8')} → 400 LIST_CURSOR_INVALID`,
      ),
    );
  });

  it('limit is 1 to 100', async () => {
    assert.equal((await listPage(t, 'limit=100', null)).items.length, 6);
    for (const query of ['limit=101', 'limit=0', 'limit=-1', 'limit=two']) {
      assert.deepEqual(
        await errorOf(t.request({ method: 'GET', url: `/api/v1/videos?${query}`, auth: null })),
        [400, 'VALIDATION_FAILED'],
        query,
      );
    }
  });

  it('GET /api/v1/categories: the fixed list', async () => {
    const answer = await t.request({ method: 'GET', url: '/api/v1/categories', auth: null });
    assert.equal(answer.statusCode, 200);
    const { items } = answer.json();
    assert.ok(
      items.some((c: { id: string; label: string }) => c.id === 'music' && c.label === 'Music'),
      answer.body,
    );
    assert.deepEqual(items.slice(0, 3), [
      { id: 'music', label: 'Music' },
      { id: 'films', label: 'Films' },
      { id: 'vehicles', label: 'Vehicles' },
    ]);
    assert.equal(items.length, 18);
    assert.equal(new Set(items.map((c: { id: string }) => c.id)).size, 18);
    // Every listed category is one PATCH accepts and the list filters on.
    for (const { id } of items)
      assert.deepEqual(
        await listIds(t, `category=${id}`, null),
        { music: [P1, P3], food: [P2, P6], sports: [P5] }[id as string] ?? [],
        id,
      );
  });

  it('GET /api/v1/tags?prefix=: public ready tags, most used first; private and unready ones ignored', async () => {
    const tags = async (prefix: string) => {
      const answer = await t.request({ method: 'GET', url: `/api/v1/tags?prefix=${q(prefix)}`, auth: null });
      assert.equal(answer.statusCode, 200, answer.body);
      return answer.json().items;
    };
    const ro = [
      { tag: 'rock', count: 3 },
      { tag: 'rockabilly', count: 1 },
    ];
    assert.deepEqual(await tags('ro'), ro);
    assert.deepEqual(await tags('RO'), ro);
    assert.deepEqual(await tags('rob'), []);
    assert.deepEqual(await tags('b'), [{ tag: 'blues', count: 2 }]);
    assert.deepEqual(await tags('ÉT'), [{ tag: 'été', count: 1 }]);
    // LIKE's wildcards are literal characters of the prefix.
    assert.deepEqual(await tags('r%'), [{ tag: 'r%x', count: 1 }]);
    assert.deepEqual(await tags('r_'), [{ tag: 'r_y', count: 1 }]);
    assert.deepEqual(await tags('%'), []);
    assert.deepEqual(await tags('_'), []);
    assert.deepEqual(
      (await tags('')).map((item: { tag: string }) => item.tag),
      ['rock', 'blues', 'jazz', 'r%x', 'r_y', 'rax', 'rockabilly', 'été'],
    );
    // Even to the admin, the list is the public catalog's.
    const admin = await t.request({ method: 'GET', url: '/api/v1/tags?prefix=ro' });
    assert.deepEqual(admin.json().items, ro);
  });
});

describe('catalog keyset pagination under concurrent inserts and deletes', () => {
  let t: TestApp;
  let counter = 0;
  // Newest first: K9 … K1. K4 and K5, and K2 and K3, were created at the same instant (the id breaks the tie); K8 and K7
  // in the same millisecond (a cursor that kept only milliseconds would skip K7 after the page [K9, K8]).
  const K = Array.from({ length: 10 }, (_, i) => `pageVideo${String(i).padStart(3, '0')}`);
  const created = (i: number) => {
    const day = String({ 3: 2, 5: 4, 8: 7 }[i] ?? i).padStart(2, '0');
    return `2024-01-${day}T12:00:00.${i === 8 ? '123999' : '123456'}Z`;
  };

  before(async () => {
    t = await startTestApp();
    for (let i = 1; i <= 9; i++) await seedVideo(t, K[i] as string, { createdAt: created(i) });
  });
  after(() => t.close());

  const newVideo = async () => {
    const id = `pageNew${String(++counter).padStart(5, '0')}`;
    await seedVideo(t, id); // created now: newer than every seeded one
    return id;
  };

  it('walks every page; the last has nextCursor null, also when it is full', async () => {
    const expected = [K[9], K[8], K[7], K[6], K[5], K[4], K[3], K[2], K[1]] as string[];
    const two = await walkList(t, 'limit=2', { auth: null });
    assert.deepEqual(two.pages, [
      expected.slice(0, 2),
      expected.slice(2, 4),
      expected.slice(4, 6),
      expected.slice(6, 8),
      expected.slice(8),
    ]);
    const three = await walkList(t, 'limit=3', { auth: null });
    assert.deepEqual(three.pages, [expected.slice(0, 3), expected.slice(3, 6), expected.slice(6, 9)]);
    // The admin's status=ready list (another plan, no partial index to lean on) pages the same way,
    // ties included: K5 before K4, K3 before K2, though each pair was inserted the other way round.
    const admin = await walkList(t, 'status=ready&limit=2');
    assert.deepEqual(admin.pages, two.pages);
    const oldest = await walkList(t, 'sort=oldest&status=ready&limit=4');
    assert.deepEqual(oldest.pages, [expected.slice(5).reverse(), expected.slice(1, 5).reverse(), [K[9]]]);
    const all = await listPage(t, 'limit=9', null);
    assert.equal(all.nextCursor, null);
    assert.deepEqual(
      all.items.map((item) => item.id),
      expected,
    );
  });

  it('no item repeats or goes missing while newer videos are added and unseen ones deleted between pages', async () => {
    const initial = await listIds(t, 'limit=100', null);
    assert.equal(initial.length, 9);
    const inserted: string[] = [];
    const deleted: string[] = [];
    const { pages } = await walkList(t, 'limit=2', {
      auth: null,
      between: async (_page, seen) => {
        // Two newer videos before the cursor, and the next unseen video deleted (the row right after the cursor).
        inserted.push(await newVideo(), await newVideo());
        const unseen = initial.filter((id) => !seen.includes(id) && !deleted.includes(id));
        const next = unseen[0];
        if (next && unseen.length > 2) {
          const answer = await t.request({ method: 'DELETE', url: `/api/v1/videos/${next}` });
          assert.equal(answer.statusCode, 204, answer.body);
          deleted.push(next);
        }
      },
    });
    const seen = pages.flat();
    assert.equal(new Set(seen).size, seen.length, `repeated: ${seen}`);
    const survivors = initial.filter((id) => !deleted.includes(id));
    assert.ok(deleted.length >= 2, `deleted ${deleted}`);
    assert.deepEqual(seen, survivors, 'every video that existed throughout, once, in order');
    for (const id of [...deleted, ...inserted]) assert.ok(!seen.includes(id), id);
  });

  it('the row a cursor points at may itself be deleted before the next page', async () => {
    const before = await listIds(t, 'sort=oldest&limit=100', null);
    assert.ok(before.length >= 6, `${before}`);
    const first = await listPage(t, 'sort=oldest&limit=3', null);
    assert.deepEqual(
      first.items.map((item) => item.id),
      before.slice(0, 3),
    );
    const answer = await t.request({ method: 'DELETE', url: `/api/v1/videos/${before[2]}` });
    assert.equal(answer.statusCode, 204);
    const rest = await listIds(t, `sort=oldest&limit=100&cursor=${q(first.nextCursor as string)}`, null);
    assert.deepEqual(rest, before.slice(3));
  });
});

describe('PATCH /api/v1/videos/:id', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  const MINE = 'editPublic01';
  const MINE_PRIVATE = 'editPrivat01';
  const MINE_UNLISTED = 'editUnlist01';
  const TOGGLE = 'editToggle01';
  const GONE = 'editDelete01';
  const OTHER = 'editOthers01';
  const video = async (id: string, auth?: string | null) =>
    (await t.request({ method: 'GET', url: `/api/v1/videos/${id}`, auth })).json();

  before(async () => {
    t = await startTestApp();
    const a = await t.app.auth.apiKeys.create('alice', 'member');
    const b = await t.app.auth.apiKeys.create('bob', 'member');
    alice = a.secret;
    bob = b.secret;
    const owner = a.key.id;
    await seedVideo(t, MINE, { title: 'zzz first', owner_key_id: owner, createdAt: '2024-01-01T00:00:00Z' });
    await seedVideo(t, MINE_PRIVATE, {
      title: 'aaa second',
      visibility: 'private',
      owner_key_id: owner,
      createdAt: '2024-01-02T00:00:00Z',
    });
    await seedVideo(t, MINE_UNLISTED, {
      visibility: 'unlisted',
      owner_key_id: owner,
      createdAt: '2024-01-03T00:00:00Z',
    });
    await seedVideo(t, TOGGLE, { owner_key_id: owner, createdAt: '2024-01-04T00:00:00Z' });
    await seedVideo(t, GONE, { owner_key_id: owner, createdAt: '2024-01-05T00:00:00Z' });
    await seedVideo(t, OTHER, { owner_key_id: b.key.id, createdAt: '2024-01-06T00:00:00Z' });
  });
  after(() => t.close());

  it('the owner edits every field; GET and the list show the edit, tags and language normalised', async () => {
    const edit = {
      title: 'Zèbre <b>bold</b>',
      description: 'line one\nline two\twith a tab',
      tags: ['  Rock ', 'rock', 'E\u0301TE\u0301', 'ÉTÉ'],
      category: 'music',
      language: 'en-us',
      visibility: 'unlisted',
    };
    const answer = await patchVideo(t, MINE, edit, alice);
    assert.equal(answer.statusCode, 200, answer.body);
    const expected = {
      title: 'Zèbre <b>bold</b>',
      description: 'line one\nline two\twith a tab',
      tags: ['rock', '\u00e9t\u00e9'],
      category: 'music',
      language: 'en-US',
      visibility: 'unlisted',
    };
    const pick = (v: Record<string, unknown>) =>
      Object.fromEntries(Object.keys(expected).map((k) => [k, v[k]]));
    assert.deepEqual(pick(answer.json()), expected);
    assert.deepEqual(pick(await video(MINE, null)), expected);
    const [item] = (await listPage(t, 'owner=me&category=music', alice)).items;
    assert.deepEqual(
      [item.id, item.title, item.tags, item.category, item.visibility],
      [MINE, expected.title, expected.tags, 'music', 'unlisted'],
    );
    assert.deepEqual(await listIds(t, `owner=me&tag=${q('été')}`, alice), [MINE]);

    // title_sort follows the title: 'aaa second' → 'Zulu', 'Zèbre…' now sorts before it.
    assert.equal((await patchVideo(t, MINE_PRIVATE, { title: 'Zulu' }, alice)).statusCode, 200);
    const titled = await listIds(t, 'owner=me&sort=title', alice);
    assert.deepEqual(titled.slice(-2), [MINE, MINE_PRIVATE]);

    // Fields not sent are left alone; null clears category and language.
    const cleared = await patchVideo(
      t,
      MINE,
      { category: null, language: null, visibility: 'public' },
      alice,
    );
    assert.equal(cleared.statusCode, 200, cleared.body);
    assert.deepEqual(pick(cleared.json()), {
      ...expected,
      category: null,
      language: null,
      visibility: 'public',
    });
    // The boundaries are accepted: 200 characters, 20 tags of 40.
    const longest = {
      title: 't'.repeat(200),
      tags: Array.from({ length: 20 }, (_, i) => `${i}`.padStart(40, 'x')),
    };
    const boundary = await patchVideo(t, MINE, longest, alice);
    assert.equal(boundary.statusCode, 200, boundary.body);
    assert.deepEqual([boundary.json().title, boundary.json().tags], [longest.title, longest.tags]);
    // An admin may edit anyone's video.
    assert.equal((await patchVideo(t, OTHER, { title: 'By the admin' })).json().title, 'By the admin');
  });

  const refused: Array<[string, unknown, number, string]> = [
    ['an empty title', { title: '' }, 400, 'VALIDATION_FAILED'],
    ['a 201-character title', { title: 't'.repeat(201) }, 400, 'VALIDATION_FAILED'],
    ['a control character in the title', { title: 'bell\u0007' }, 400, 'VALIDATION_FAILED'],
    ['a newline in the title', { title: 'two\nlines' }, 400, 'VALIDATION_FAILED'],
    ['a 5001-character description', { description: 'd'.repeat(5001) }, 400, 'VALIDATION_FAILED'],
    ['a NUL in the description', { description: 'nul\u0000' }, 400, 'VALIDATION_FAILED'],
    ['21 tags', { tags: Array.from({ length: 21 }, (_, i) => `tag${i}`) }, 400, 'VIDEO_TAGS_INVALID'],
    ['a 41-character tag', { tags: ['ok', 'x'.repeat(41)] }, 400, 'VIDEO_TAGS_INVALID'],
    ['an empty tag', { tags: ['ok', ''] }, 400, 'VIDEO_TAGS_INVALID'],
    ['a blank tag', { tags: ['   '] }, 400, 'VIDEO_TAGS_INVALID'],
    ['an unknown category', { category: 'nope' }, 400, 'VIDEO_CATEGORY_UNKNOWN'],
    ['a malformed language', { language: 'en_US!' }, 400, 'VIDEO_LANGUAGE_INVALID'],
    ['an empty language', { language: '' }, 400, 'VIDEO_LANGUAGE_INVALID'],
    ['an unknown visibility', { visibility: 'secret' }, 400, 'VALIDATION_FAILED'],
    ['an empty body', {}, 400, 'VALIDATION_FAILED'],
    ['only a misspelt field', { titel: 'Typo' }, 400, 'VALIDATION_FAILED'],
    [
      'a good field with a misspelt one',
      { title: 'Would change', visibilty: 'public' },
      400,
      'VALIDATION_FAILED',
    ],
    [
      'a good title with a bad category',
      { title: 'Would change', category: 'nope' },
      400,
      'VIDEO_CATEGORY_UNKNOWN',
    ],
    [
      'a good title with bad tags',
      { title: 'Would change', tags: ['x'.repeat(41)] },
      400,
      'VIDEO_TAGS_INVALID',
    ],
    ['good tags with a bad language', { tags: ['new'], language: 'en_US!' }, 400, 'VIDEO_LANGUAGE_INVALID'],
  ];
  for (const [name, body, status, code] of refused) {
    it(`${name} → ${status} ${code}, the video unchanged`, async () => {
      const before = await video(MINE_UNLISTED, alice);
      assert.deepEqual(await errorOf(patchVideo(t, MINE_UNLISTED, body, alice)), [status, code]);
      assert.deepEqual(await video(MINE_UNLISTED, alice), before);
    });
  }

  it('chapters come from the description, YouTube-style, and follow its edits', async () => {
    await seedVideo(t, 'chaptered001', { duration_seconds: 600 });
    assert.deepEqual((await video('chaptered001', null)).chapters, []);
    const description = 'Walkthrough.\n\n0:00 Intro\n1:30 Setup\n4:05 Demo & <questions>';
    assert.equal((await patchVideo(t, 'chaptered001', { description })).statusCode, 200);
    assert.deepEqual((await video('chaptered001', null)).chapters, [
      { start: 0, title: 'Intro' },
      { start: 90, title: 'Setup' },
      { start: 245, title: 'Demo & <questions>' },
    ]);
    await patchVideo(t, 'chaptered001', { description: '0:00 Intro\n1:30 Setup' }); // two lines: no chapters
    assert.deepEqual((await video('chaptered001', null)).chapters, []);
  });

  it('who may edit: an upload token 403, anonymous 401, another member 403 on a public video and 404 on a hidden one', async () => {
    const token = await t.request({ method: 'POST', url: '/api/v1/upload-tokens', auth: alice });
    assert.equal(token.statusCode, 201, token.body);
    const cases: Array<[string, string | null, number, string]> = [
      [MINE_UNLISTED, token.json().token, 403, 'FORBIDDEN'],
      [MINE_UNLISTED, null, 401, 'AUTH_REQUIRED'],
      [TOGGLE, bob, 403, 'FORBIDDEN'],
      [MINE_PRIVATE, bob, 404, 'VIDEO_NOT_FOUND'],
      [MINE_UNLISTED, bob, 404, 'VIDEO_NOT_FOUND'],
      [OTHER, alice, 403, 'FORBIDDEN'],
      ['noSuchVideo1', alice, 404, 'VIDEO_NOT_FOUND'],
    ];
    for (const [id, auth, status, code] of cases) {
      const before = await video(id);
      assert.deepEqual(
        await errorOf(patchVideo(t, id, { title: 'Hijacked' }, auth)),
        [status, code],
        `${id} ${status}`,
      );
      assert.deepEqual(await video(id), before, id);
    }
    assert.deepEqual(await errorOf(patchVideo(t, 'short', { title: 'x' }, alice)), [
      400,
      'VALIDATION_FAILED',
    ]);
  });

  it('private leaves the anonymous list at once, public brings it back; unlisted is never listed', async () => {
    const listed = await listIds(t, '', null);
    assert.ok(listed.includes(TOGGLE), `${listed}`);
    const without = listed.filter((id) => id !== TOGGLE);
    assert.equal((await patchVideo(t, TOGGLE, { visibility: 'private' }, alice)).statusCode, 200);
    assert.deepEqual(await listIds(t, '', null), without);
    assert.deepEqual(await listIds(t, '', bob), without);
    assert.deepEqual(
      await errorOf(t.request({ method: 'GET', url: `/api/v1/videos/${TOGGLE}`, auth: null })),
      [404, 'VIDEO_NOT_FOUND'],
    );
    assert.equal((await patchVideo(t, TOGGLE, { visibility: 'public' }, alice)).statusCode, 200);
    assert.deepEqual(await listIds(t, '', null), listed);
    assert.equal((await patchVideo(t, TOGGLE, { visibility: 'unlisted' }, alice)).statusCode, 200);
    assert.deepEqual(await listIds(t, '', null), without);
    assert.equal((await patchVideo(t, TOGGLE, { visibility: 'public' }, alice)).statusCode, 200);
    assert.deepEqual(await listIds(t, '', null), listed);
  });

  it('a deleted video leaves every list at once, and editing it is 410 VIDEO_DELETED', async () => {
    const listed = await listIds(t, '', null);
    const own = await listIds(t, 'owner=me', alice);
    assert.ok(listed.includes(GONE) && own.includes(GONE));
    assert.equal(
      (await t.request({ method: 'DELETE', url: `/api/v1/videos/${GONE}`, auth: alice })).statusCode,
      204,
    );
    assert.deepEqual(
      await listIds(t, '', null),
      listed.filter((id) => id !== GONE),
    );
    assert.deepEqual(
      await listIds(t, 'owner=me', alice),
      own.filter((id) => id !== GONE),
    );
    assert.ok(!(await listIds(t, 'status=ready')).includes(GONE));
    assert.deepEqual(await errorOf(patchVideo(t, GONE, { title: 'Back' }, alice)), [410, 'VIDEO_DELETED']);
    assert.deepEqual(await errorOf(patchVideo(t, GONE, { title: 'Back' })), [410, 'VIDEO_DELETED']);
  });
});

describe('upload completion takes category and language like PATCH', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('a bad field is refused and leaves the session completable; a good body sets category music, language pt-BR', async () => {
    const bytes = await fs.readFile(await makeClip(t.dir, { seconds: 1, audio: false }));
    const chunkSize = Math.max(256 * 1024, t.app.config.uploads.minChunkSize);
    const session = await createSession(t, bytes, { chunkSize });
    for (let index = 0; index < session.totalChunks; index++) {
      const answer = await putChunk(t, session.id, index, chunkOf(bytes, chunkSize, index));
      assert.equal(answer.statusCode, 200, answer.body);
    }
    const complete = (json: unknown) =>
      t.request({ method: 'POST', url: `/api/v1/uploads/${session.id}/complete`, json });
    const bad: Array<[unknown, string]> = [
      [{ title: 'Clip', category: 'nope' }, 'VIDEO_CATEGORY_UNKNOWN'],
      [{ title: 'Clip', language: 'en_US!' }, 'VIDEO_LANGUAGE_INVALID'],
      [{ title: 'Clip', tags: ['x'.repeat(41)] }, 'VIDEO_TAGS_INVALID'],
    ];
    for (const [body, code] of bad) {
      assert.deepEqual(await errorOf(complete(body)), [400, code], JSON.stringify(body));
      const state = (await t.request({ method: 'GET', url: `/api/v1/uploads/${session.id}` })).json();
      assert.equal(state.state, 'active', JSON.stringify(state));
    }
    assert.deepEqual(await listIds(t, 'owner=me'), []);

    const done = await complete({
      title: 'Clip',
      category: 'music',
      language: 'pt-br',
      tags: [' Samba ', 'SAMBA'],
    });
    assert.equal(done.statusCode, 202, done.body);
    const { videoId } = done.json();
    const created = (await t.request({ method: 'GET', url: `/api/v1/videos/${videoId}` })).json();
    assert.deepEqual([created.category, created.language, created.tags], ['music', 'pt-BR', ['samba']]);
    const listed = await listPage(t, 'owner=me');
    assert.deepEqual(
      listed.items.map((item) => [item.id, item.category, item.tags, item.status]),
      [[videoId, 'music', ['samba'], 'processing']],
    );
  });
});
