import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './support/harness.ts';
import { freePort, runCli } from './support/server-process.ts';
import { insertVideo, seedReadyVideo } from './support/videos.ts';

// `reel list`, `reel edit`, `reel delete` as child processes against a listening Reel (in-process app,
// seeded rows): exit codes and output, and what the API then answers.
describe('reel list / edit / delete against a real server', () => {
  let t: TestApp;
  let baseUrl: string;
  let member: string;
  let cliData: string;
  // Public and ready (the default list), newest first: NEWER, OLDER.
  const OLDER = 'cliPubOld001'; // 'Alpha clip', 65 s
  const NEWER = 'cliPubNew001'; // 'Bravo clip', 2 s
  const EDITED = 'cliEdited001'; // public, ready, owned by the member: edited below
  const DOOMED = 'cliDoomed001'; // public, ready: deleted below
  const PRIVATE = 'cliPrivate01'; // member's, private, ready
  const PROCESSING = 'cliProcess01'; // member's, public, still processing

  /** `reel ARGS` with this server and `key` (the admin key unless given; null: none), nothing saved. */
  const reel = (args: string[], key: string | null = t.apiKey, url = baseUrl) =>
    runCli(args, {
      REEL_URL: url,
      REEL_API_KEY: key ?? '',
      DATA_DIR: cliData,
      REEL_STATE_FILE: path.join(cliData, 'state.json'),
    });
  const lines = (text: string) => text.split('\n').filter((line) => line !== '');
  const getVideo = async (id: string) => {
    const response = await fetch(`${baseUrl}/api/v1/videos/${id}`, {
      headers: { authorization: `Bearer ${t.apiKey}` },
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  before(async () => {
    t = await startTestApp();
    await t.app.http.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(t.app.http.server.address() as AddressInfo).port}`;
    cliData = path.join(t.dir, 'cli');
    const created = await t.app.auth.apiKeys.create('member', 'member');
    member = created.secret;
    const owner_key_id = created.key.id;
    const rows: Array<[string, string, Parameters<typeof insertVideo>[2]]> = [
      [OLDER, '2024-01-01', { title: 'Alpha clip', duration_seconds: 65 }],
      [NEWER, '2024-03-01', { title: 'Bravo clip', duration_seconds: 2 }],
      [EDITED, '2024-02-01', { title: 'Before', tags: ['old'], owner_key_id }],
      [DOOMED, '2023-12-01', { title: 'Doomed' }],
      [PRIVATE, '2024-04-01', { title: 'Secret', visibility: 'private', owner_key_id }],
    ];
    for (const [id, , overrides] of rows) await seedReadyVideo(t, id, overrides);
    await insertVideo(t, PROCESSING, { title: 'Cooking', owner_key_id });
    const days: Array<[string, string]> = [
      ...rows.map(([id, day]): [string, string] => [id, day]),
      [PROCESSING, '2024-05-01'],
    ];
    for (const [id, day] of days) {
      const created_at = new Date(`${day}T00:00:00Z`);
      await t.app.database.db.updateTable('videos').set({ created_at }).where('id', '=', id).execute();
    }
  });

  after(async () => {
    await t?.close();
    if (t) await fs.rm(t.dir, { recursive: true, force: true });
  });

  test('list: the public, ready videos, newest first, one line each (id, duration m:ss, title)', async () => {
    const result = await reel(['list'], null);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(lines(result.stdout), [
      `${NEWER}  0:02  Bravo clip`,
      `${EDITED}  0:02  Before`,
      `${OLDER}  1:05  Alpha clip`,
      `${DOOMED}  0:02  Doomed`,
    ]);
    assert.equal(result.stderr, '');
  });

  test('list --owner me: the key holder’s own videos, any status and visibility, with a status column', async () => {
    const json = await reel(['list', '--owner', 'me', '--json'], member);
    assert.equal(json.code, 0, json.stderr);
    const page = JSON.parse(json.stdout);
    assert.equal(page.nextCursor, null);
    assert.deepEqual(
      page.items.map((item: any) => [item.id, item.status, item.visibility]),
      [
        [PROCESSING, 'processing', 'public'],
        [PRIVATE, 'ready', 'private'],
        [EDITED, 'ready', 'public'],
      ],
    );
    const table = await reel(['list', '--owner', 'me', '--sort', 'title'], member);
    assert.equal(table.code, 0, table.stderr);
    assert.deepEqual(lines(table.stdout), [
      `${EDITED}  ready       0:02  Before`,
      `${PROCESSING}  processing  0:02  Cooking`,
      `${PRIVATE}  ready       0:02  Secret`,
    ]);
    const noKey = await reel(['list', '--owner', 'me'], null);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /reel list: no API key/);
  });

  test('list --status processing (admin key): every processing video', async () => {
    const result = await reel(['list', '--status', 'processing', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      JSON.parse(result.stdout).items.map((item: any) => item.id),
      [PROCESSING],
    );
  });

  test('list --limit 1 shows one page (and says there is more); --all follows nextCursor', async () => {
    const one = await reel(['list', '--limit', '1'], null);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(lines(one.stdout), [`${NEWER}  0:02  Bravo clip`]);
    assert.match(one.stderr, /--all/);
    const all = await reel(['list', '--limit', '1', '--all', '--sort', 'oldest', '--json'], null);
    assert.equal(all.code, 0, all.stderr);
    const page = JSON.parse(all.stdout);
    assert.deepEqual(
      page.items.map((item: any) => item.id),
      [DOOMED, OLDER, EDITED, NEWER],
    );
    assert.equal(page.nextCursor, null);
  });

  test('list --q against a server without search: says so, exit 1 (same query parameters sent)', async () => {
    // What a Reel without GET /api/v1/search answers: its not-found handler's 404 NOT_FOUND.
    const asked: string[] = [];
    const old = http.createServer((request, response) => {
      asked.push(request.url ?? '');
      const body = { error: { code: 'NOT_FOUND', message: 'No route GET /api/v1/search', details: {} } };
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(old.address() as AddressInfo).port}`;
      const result = await reel(
        ['list', '--q', 'alpha', '--limit', '5', '--sort', 'relevance'],
        t.apiKey,
        url,
      );
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr.trim(), 'reel list: this server has no search yet');
      assert.deepEqual(asked, ['/api/v1/search?q=alpha&sort=relevance&limit=5']);
    } finally {
      old.closeAllConnections();
      await new Promise((resolve) => old.close(resolve));
    }
  });

  test('list --q against this server: what GET /api/v1/search answers (or that it has none yet)', async () => {
    const api = await fetch(`${baseUrl}/api/v1/search?q=alpha`);
    const result = await reel(['list', '--q', 'alpha', '--json'], null);
    if (api.status === 404) {
      assert.equal(result.code, 1);
      assert.equal(result.stderr.trim(), 'reel list: this server has no search yet');
      return;
    }
    assert.equal(api.status, 200);
    assert.equal(result.code, 0, result.stderr);
    const expected = ((await api.json()) as any).items.map((item: any) => item.id);
    assert.deepEqual(
      JSON.parse(result.stdout).items.map((item: any) => item.id),
      expected,
    );
  });

  test('edit: title and tags change (the API answers the same); --tags "" clears them', async () => {
    const result = await reel(['edit', EDITED, '--title', 'After', '--tags', ' Cats, dogs,cats ']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(lines(result.stdout), [`Updated ${EDITED}`, '  title: After', '  tags: cats, dogs']);
    let video = await getVideo(EDITED);
    assert.equal(video.body.title, 'After');
    assert.deepEqual(video.body.tags, ['cats', 'dogs']);

    const cleared = await reel(['edit', EDITED, '--tags', '', '--category', 'music', '--json'], member);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.deepEqual(JSON.parse(cleared.stdout).tags, []);
    video = await getVideo(EDITED);
    assert.deepEqual([video.body.tags, video.body.category, video.body.title], [[], 'music', 'After']);

    const language = await reel(['edit', EDITED, '--category', '', '--language', 'en-us']);
    assert.equal(language.code, 0, language.stderr);
    assert.deepEqual(lines(language.stdout), [
      `Updated ${EDITED}`,
      '  category: (none)',
      '  language: en-US',
    ]);
  });

  test('edit: the API’s refusal is printed as CODE: message, exit 1, and nothing changes', async () => {
    const before = (await getVideo(EDITED)).body;
    const result = await reel(['edit', EDITED, '--category', 'no-such-category', '--title', 'Never']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^reel edit: VIDEO_CATEGORY_UNKNOWN: /);
    const after = (await getVideo(EDITED)).body;
    assert.deepEqual([after.title, after.category], [before.title, before.category]);

    const unknown = await reel(['edit', 'noSuchVideo1', '--title', 'x']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^reel edit: VIDEO_NOT_FOUND: /);
    const noKey = await reel(['edit', EDITED, '--title', 'x'], null);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /reel edit: no API key/);
  });

  test('delete: prints Deleted ID; the video is then gone (status: VIDEO_DELETED, 410)', async () => {
    const result = await reel(['delete', DOOMED]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `Deleted ${DOOMED}\n`);
    assert.equal((await getVideo(DOOMED)).status, 410);
    const status = await reel(['status', DOOMED]);
    assert.equal(status.code, 1);
    assert.match(status.stderr, /^reel status: VIDEO_DELETED: /);
    const listed = await reel(['list', '--json'], null);
    assert.ok(!JSON.parse(listed.stdout).items.some((item: any) => item.id === DOOMED));
    const again = await reel(['delete', DOOMED]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^reel delete: VIDEO_DELETED: /);
  });

  test('an unreachable server: the connection error and a hint, exit 1', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = await reel(['delete', OLDER], t.apiKey, closed);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^reel delete: ECONNREFUSED: .*is a Reel server running at/);
  });

  test('usage errors exit 2 with the usage text, before any request', async () => {
    const cases: string[][] = [
      ['list', '--bogus'],
      ['list', '--sort', 'random'],
      ['list', '--sort', 'relevance'],
      ['list', '--limit', '0'],
      ['list', '--q'],
      ['edit'],
      ['edit', EDITED],
      ['edit', EDITED, '--visibility', 'secret'],
      ['delete', OLDER, NEWER],
    ];
    // Two at a time: each is a Node process start.
    for (let i = 0; i < cases.length; i += 2) {
      const results = await Promise.all(cases.slice(i, i + 2).map((args) => reel(args)));
      results.forEach((result, j) => {
        const args = cases[i + j]!;
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`Usage: reel ${args[0]} `), args.join(' '));
        assert.equal(result.stdout, '', args.join(' '));
      });
    }
    assert.equal((await getVideo(OLDER)).status, 200, 'nothing was deleted');
  });
});
