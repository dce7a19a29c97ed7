import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { refreshRecentViews } from '../src/views/maintenance.ts';
import { patchVideo, seedVideo } from './support/catalog.ts';
import { forEachDatabaseApp, startTestApp, type TestApp } from './support/harness.ts';

const USER_AGENT =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';

/** A session that asks to play, shows its first frame after 300 ms and watches `seconds` in one heartbeat. */
function watchBatch(
  videoId: string,
  viewerId: string,
  seconds: number,
  options: { sessionId?: string; seq?: number } = {},
) {
  const t0 = Date.now() - (seconds + 1) * 1000;
  return {
    videoId,
    sessionId: options.sessionId ?? randomUUID(),
    viewerId,
    seq: options.seq ?? 0,
    events: [
      { type: 'start', t: t0 },
      { type: 'firstFrame', t: t0 + 300 },
      {
        type: 'heartbeat',
        t: t0 + 300 + seconds * 1000,
        position: seconds,
        watched: seconds,
        height: 180,
        playerHeight: 360,
        bitrate: 400_000,
      },
    ],
  };
}

async function send(t: TestApp, body: unknown, headers: Record<string, string> = {}) {
  return t.app.http.inject({
    method: 'POST',
    url: '/api/v1/playback/events',
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
  });
}

async function viewsOf(t: TestApp, id: string): Promise<number> {
  return (await t.request({ method: 'GET', url: `/api/v1/videos/${id}`, auth: null })).json().views;
}

async function watchSeconds(t: TestApp, videoId: string): Promise<number> {
  const result = await sql<{ s: number }>`
    select coalesce(sum(watch_seconds), 0)::float8 as s from view_hourly where video_id = ${videoId}`.execute(
    t.app.database.db,
  );
  return result.rows[0]!.s;
}

async function storedBatches(t: TestApp): Promise<number> {
  const result = await sql<{ n: number }>`select count(*)::int as n from playback_batches`.execute(
    t.app.database.db,
  );
  return result.rows[0]!.n;
}

forEachDatabaseApp('views', (database, start) =>
  describe(`playback beacons → views (${database})`, () => {
    let t: TestApp;
    const VIDEO = 'viewsVideo01'; // 4 s long: half of it (2 s) makes a view
    before(async () => {
      t = await start();
      await seedVideo(t, VIDEO, { duration_seconds: 4 });
      await seedVideo(t, 'viewsUnlist1', { duration_seconds: 4, visibility: 'unlisted' });
      await seedVideo(t, 'viewsPrivat1', { duration_seconds: 4, visibility: 'private' });
    });
    after(() => t.close());

    it('a session that watched half of a short video makes one view, seen by the video and the list after a flush', async () => {
      const response = await send(t, watchBatch(VIDEO, 'viewer-one-0001', 2));
      assert.equal(response.statusCode, 202, response.body);
      assert.deepEqual(response.json(), { accepted: 3 });
      await t.request({ method: 'GET', url: '/api/v1/videos', auth: null }); // cached before the flush
      await t.app.views.recorder.flush();
      assert.equal(await viewsOf(t, VIDEO), 1);
      const listed = (await t.request({ method: 'GET', url: '/api/v1/videos', auth: null })).json().items;
      assert.equal(listed.find((item: { id: string }) => item.id === VIDEO).views, 1);
    });

    it('a replayed batch (same session and seq) counts once, within a flush and across flushes', async () => {
      const batch = watchBatch(VIDEO, 'viewer-two-0002', 2);
      const before = await viewsOf(t, VIDEO);
      const watchedBefore = await watchSeconds(t, VIDEO);
      assert.equal((await send(t, batch)).statusCode, 202);
      assert.equal((await send(t, batch)).statusCode, 202);
      await t.app.views.recorder.flush();
      assert.equal((await send(t, batch)).statusCode, 202);
      await t.app.views.recorder.flush();
      assert.equal(await viewsOf(t, VIDEO), before + 1);
      assert.equal(await watchSeconds(t, VIDEO), watchedBefore + 2, 'its watch time is added once');
    });

    it('the same viewer again within the dedup window: no second view; 1.9 s of a 4 s video: no view', async () => {
      const before = await viewsOf(t, VIDEO);
      await send(t, watchBatch(VIDEO, 'viewer-one-0001', 3)); // a new session, same viewer as the first test
      await send(t, watchBatch(VIDEO, 'viewer-three-003', 1.9));
      await t.app.views.recorder.flush();
      assert.equal(await viewsOf(t, VIDEO), before);
    });

    it('accepts text/plain (navigator.sendBeacon)', async () => {
      const response = await send(t, JSON.stringify(watchBatch(VIDEO, 'viewer-beacon-04', 1)), {
        'content-type': 'text/plain;charset=UTF-8',
      });
      assert.equal(response.statusCode, 202, response.body);
    });

    it('unlisted videos need their beacon token; private ones are hidden without it', async () => {
      const unlisted = watchBatch('viewsUnlist1', 'viewer-unlisted5', 2);
      const refused = await send(t, unlisted);
      assert.deepEqual([refused.statusCode, refused.json().error.code], [403, 'BEACON_TOKEN_INVALID']);
      const token = (
        await t.request({ method: 'GET', url: '/api/v1/videos/viewsUnlist1', auth: null })
      ).json().playback.beaconToken;
      assert.match(token, /^\d+\.[A-Za-z0-9_-]{43}$/);
      assert.equal((await send(t, { ...unlisted, token })).statusCode, 202);
      assert.equal(
        (
          await send(t, {
            ...unlisted,
            token: token.replace(/.$/, (last: string) => (last === 'A' ? 'B' : 'A')),
            seq: 1,
          })
        ).statusCode,
        403,
      );
      const hidden = await send(t, watchBatch('viewsPrivat1', 'viewer-private6', 2));
      assert.deepEqual([hidden.statusCode, hidden.json().error.code], [404, 'VIDEO_NOT_FOUND']);
      const privateToken = (await t.request({ method: 'GET', url: '/api/v1/videos/viewsPrivat1' })).json()
        .playback.beaconToken;
      assert.equal(
        (await send(t, { ...watchBatch('viewsPrivat1', 'viewer-private6', 2), token: privateToken }))
          .statusCode,
        202,
      );
      // A token of one video does not count for another.
      assert.equal(
        (await send(t, { ...watchBatch('viewsPrivat1', 'viewer-private7', 2), token })).statusCode,
        404,
      );
      await t.app.views.recorder.flush();
      assert.equal(
        (await t.request({ method: 'GET', url: '/api/v1/videos/viewsUnlist1', auth: null })).json().views,
        1,
      );
    });

    it('hostile beacons get a 4xx with a code, and nothing is stored', async () => {
      await t.app.views.recorder.flush();
      const stored = await storedBatches(t);
      const now = Date.now();
      const base = { videoId: VIDEO, sessionId: randomUUID(), viewerId: 'viewer-hostile-1', seq: 0 };
      const cases: Array<[string, unknown, number, string]> = [
        ['a bad event type', { ...base, events: [{ type: 'like', t: now }] }, 400, 'VALIDATION_FAILED'],
        [
          'a bad stall phase',
          { ...base, events: [{ type: 'stall', t: now, phase: 'middle' }] },
          400,
          'VALIDATION_FAILED',
        ],
        ['a negative time', { ...base, events: [{ type: 'start', t: -5 }] }, 400, 'VALIDATION_FAILED'],
        [
          'NaN as a string',
          { ...base, events: [{ type: 'heartbeat', t: now, position: 'NaN', watched: 1 }] },
          400,
          'VALIDATION_FAILED',
        ],
        [
          'a negative watched',
          { ...base, events: [{ type: 'heartbeat', t: now, position: 1, watched: -1 }] },
          400,
          'VALIDATION_FAILED',
        ],
        ['no events', { ...base, events: [] }, 400, 'VALIDATION_FAILED'],
        [
          'an unknown field',
          { ...base, extra: 1, events: [{ type: 'start', t: now }] },
          400,
          'VALIDATION_FAILED',
        ],
        [
          'a future time',
          { ...base, events: [{ type: 'start', t: now + 25 * 3600_000 }] },
          400,
          'BEACON_TIME_OUT_OF_RANGE',
        ],
        [
          'an old time',
          { ...base, events: [{ type: 'start', t: now - 25 * 3600_000 }] },
          400,
          'BEACON_TIME_OUT_OF_RANGE',
        ],
        [
          'times going back',
          {
            ...base,
            events: [
              { type: 'start', t: now },
              { type: 'end', t: now - 1000 },
            ],
          },
          400,
          'BEACON_OUT_OF_ORDER',
        ],
        [
          'watching more than the time between events',
          {
            ...base,
            events: [
              { type: 'start', t: now - 5000 },
              { type: 'heartbeat', t: now, position: 30, watched: 30 },
            ],
          },
          400,
          'BEACON_WATCHED_IMPLAUSIBLE',
        ],
        [
          '51 events',
          { ...base, events: Array.from({ length: 51 }, () => ({ type: 'end', t: now })) },
          400,
          'BEACON_TOO_MANY_EVENTS',
        ],
        [
          '10 000 events (over 16 KiB)',
          { ...base, events: Array.from({ length: 10_000 }, () => ({ type: 'end', t: now })) },
          413,
          'PAYLOAD_TOO_LARGE',
        ],
        [
          'an unknown video',
          { ...base, videoId: 'nosuchvideo1', events: [{ type: 'start', t: now }] },
          404,
          'VIDEO_NOT_FOUND',
        ],
        [
          'a short viewer id',
          { ...base, viewerId: 'x', events: [{ type: 'start', t: now }] },
          400,
          'VALIDATION_FAILED',
        ],
        ['not JSON (text/plain)', '{"videoId": ', 400, 'VALIDATION_FAILED'],
      ];
      for (const [name, body, status, code] of cases) {
        const headers: Record<string, string> =
          typeof body === 'string' ? { 'content-type': 'text/plain' } : {};
        const response = await send(t, body, headers);
        assert.deepEqual(
          [response.statusCode, response.json().error?.code],
          [status, code],
          `${name}: ${response.body.slice(0, 300)}`,
        );
      }
      assert.equal(t.app.views.recorder.pending, 0);
      await t.app.views.recorder.flush();
      assert.equal(await storedBatches(t), stored);
    });

    it('rate limits a viewer: 429 with Retry-After', async () => {
      const limited = await startTestApp({ env: { RATE_LIMIT_BEACONS_PER_MINUTE_PER_VIEWER: '3' } });
      try {
        await seedVideo(limited, VIDEO, { duration_seconds: 4 });
        const statuses: number[] = [];
        for (let seq = 0; seq < 5; seq++) {
          statuses.push(
            (await send(limited, { ...watchBatch(VIDEO, 'viewer-greedy-01', 1), seq })).statusCode,
          );
        }
        assert.deepEqual(statuses, [202, 202, 202, 429, 429]);
        const last = await send(limited, watchBatch(VIDEO, 'viewer-greedy-01', 1));
        assert.ok(Number(last.headers['retry-after']) >= 1);
        assert.equal(last.json().error.code, 'RATE_LIMITED');
        // Another viewer is not held back.
        assert.equal((await send(limited, watchBatch(VIDEO, 'viewer-modest-02', 1))).statusCode, 202);
      } finally {
        await limited.close();
      }
    });

    it('keeps no viewer id, no address and no user agent anywhere in the database', async () => {
      await t.app.views.recorder.flush();
      const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public'`.execute(
        t.app.database.db,
      );
      let dump = '';
      for (const { table_name } of tables.rows) {
        const rows = await sql<{
          row: string;
        }>`select row_to_json(x)::text as row from ${sql.table(table_name)} x`.execute(t.app.database.db);
        dump += rows.rows.map((row) => row.row).join('\n');
      }
      assert.match(dump, /"browser":"Chrome"/, 'the dump holds the sessions');
      for (const secret of [
        'viewer-one-0001',
        'viewer-two-0002',
        'viewer-unlisted5',
        '127.0.0.1',
        'Pixel 8',
        USER_AGENT,
      ]) {
        assert.ok(!dump.includes(secret), `${secret} is stored`);
      }
    });

    it('trending sorts by the views of the last 48 hours', async () => {
      await seedVideo(t, 'viewsTrend01', { duration_seconds: 4 });
      for (const viewer of [
        'viewer-trend-0001',
        'viewer-trend-0002',
        'viewer-trend-0003',
        'viewer-trend-0004',
      ]) {
        await send(t, watchBatch('viewsTrend01', viewer, 2));
      }
      await t.app.views.recorder.flush();
      // Views older than 48 h do not count: age VIDEO's buckets.
      await sql`update view_hourly set hour = hour - interval '3 days' where video_id = ${VIDEO}`.execute(
        t.app.database.db,
      );
      await refreshRecentViews(t.app.database.db);
      const trending = (
        await t.request({ method: 'GET', url: '/api/v1/videos?sort=trending', auth: null })
      ).json();
      const order = trending.items.map((item: { id: string }) => item.id);
      assert.equal(order[0], 'viewsTrend01');
      const recent = await sql<{ id: string; views_recent: number }>`
      select id, views_recent from videos where id in (${VIDEO}, 'viewsTrend01') order by id`.execute(
        t.app.database.db,
      );
      assert.deepEqual(
        recent.rows.map((row) => [row.id, Number(row.views_recent)]),
        [
          ['viewsTrend01', 4],
          [VIDEO, 0],
        ],
      );
    });

    it('an edit does not lose counted views', async () => {
      const before = await viewsOf(t, VIDEO);
      await patchVideo(t, VIDEO, { title: 'Renamed' });
      assert.equal(await viewsOf(t, VIDEO), before);
    });
  }),
);
