import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { finalizeIdleSessions } from '../src/views/maintenance.ts';
import { seedVideo } from './support/catalog.ts';
import { forEachDatabaseApp, type TestApp } from './support/harness.ts';

const VIDEO = 'statsVideo01'; // 20 s long: 10 s make a view
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

async function send(t: TestApp, body: unknown) {
  const response = await t.app.http.inject({
    method: 'POST',
    url: '/api/v1/playback/events',
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'user-agent': UA },
  });
  assert.equal(response.statusCode, 202, response.body);
}

/**
 * Four hand-computed sessions, all inside one minute:
 * A watches 10 s of 720p (2.4 Mb/s, player 720 high), stalls 1 s, watches 3 s more (no bitrate, no player size);
 * B watches 4 s of 360p (0.8 Mb/s) in a 720-high player; C fails before its first frame; D asks to play and leaves.
 */
async function playFourSessions(t: TestApp, t0: number): Promise<void> {
  const session = (name: string) => ({
    videoId: VIDEO,
    sessionId: `session-${name}-0001`,
    viewerId: `viewer-${name}-0001`,
  });
  await send(t, {
    ...session('a'),
    seq: 0,
    events: [
      { type: 'start', t: t0 },
      { type: 'firstFrame', t: t0 + 400 },
      {
        type: 'heartbeat',
        t: t0 + 10_400,
        position: 10,
        watched: 10,
        height: 720,
        playerHeight: 720,
        bitrate: 2_400_000,
      },
      { type: 'rendition', t: t0 + 10_450, fromHeight: 720, toHeight: 480, auto: false },
      { type: 'stall', t: t0 + 10_500, phase: 'start' },
      { type: 'stall', t: t0 + 11_500, phase: 'end' },
      { type: 'heartbeat', t: t0 + 14_500, position: 13, watched: 3, height: 720 },
    ],
  });
  await send(t, {
    ...session('b'),
    seq: 0,
    events: [
      { type: 'start', t: t0 },
      { type: 'firstFrame', t: t0 + 600 },
      {
        type: 'heartbeat',
        t: t0 + 4600,
        position: 4,
        watched: 4,
        height: 360,
        playerHeight: 720,
        bitrate: 800_000,
      },
      { type: 'rendition', t: t0 + 4650, fromHeight: 360, toHeight: 720, auto: true },
      { type: 'end', t: t0 + 4700 },
    ],
  });
  await send(t, {
    ...session('c'),
    seq: 0,
    events: [
      { type: 'start', t: t0 },
      { type: 'error', t: t0 + 2000, fatal: true, code: 'MANIFEST_LOAD_ERROR' },
    ],
  });
  await send(t, { ...session('d'), seq: 0, events: [{ type: 'start', t: t0 }] });
  await t.app.views.recorder.flush();
  // D goes silent: five minutes later its session is over, an exit before the start.
  await sql`update playback_sessions set updated_at = now() - interval '10 minutes' where id = 'session-d-0001'`.execute(
    t.app.database.db,
  );
  await finalizeIdleSessions(t.app.database.db);
}

forEachDatabaseApp('views', (database, start) =>
  describe(`GET /api/v1/videos/:id/stats and /api/v1/stats (${database})`, () => {
    let t: TestApp;
    let member: string;
    let memberKeyId: string;
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    before(async () => {
      t = await start();
      await seedVideo(t, VIDEO, { duration_seconds: 20 });
      const created = await t.app.auth.apiKeys.create('member', 'member');
      member = created.secret;
      memberKeyId = created.key.id;
      await playFourSessions(t, t0);
    });
    after(() => t.close());

    const close = (actual: number | null, expected: number, name: string) =>
      assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${name}: ${actual} ≠ ${expected}`);

    it('totals: views, viewers, watch time and Mux-defined quality figures, exactly', async () => {
      const response = await t.request({ method: 'GET', url: `/api/v1/videos/${VIDEO}/stats` });
      assert.equal(response.statusCode, 200, response.body);
      const { totals } = response.json();
      assert.deepEqual(
        [totals.views, totals.uniqueViewers, totals.sessions, totals.peakConcurrentViewers],
        [1, 2, 4, 2],
      );
      close(totals.watchTimeSeconds, 17, 'watch time');
      close(totals.averageWatchSeconds, 17 / 4, 'average watch');
      // Startup 400 and 600 ms, in 50-ms bins, interpolated: p50 = 400 + 50 × 1/1, p95 = 600 + 50 × 0.9/1.
      close(totals.startupTimeP50Ms, 450, 'startup p50');
      close(totals.startupTimeP95Ms, 645, 'startup p95');
      close(totals.playbackFailurePercent, 25, 'failure %');
      close(totals.exitsBeforeStartPercent, 25, 'exits before start %');
      close(totals.rebufferPercent, (100 * 1) / 18, 'rebuffer %');
      close(totals.rebufferPerMinute, 1 / (17 / 60), 'rebuffers per minute');
      close(totals.averageHeight, (720 * 13 + 360 * 4) / 17, 'average height');
      close(totals.averageBitrate, (2_400_000 * 10 + 800_000 * 4) / 14, 'average bitrate');
      close(totals.upscalePercent, (100 * (0 * 10 + 1 * 4)) / 14, 'upscale %');
      close(totals.autoSwitchesPerMinute, 1 / (17 / 60), 'ABR switches per minute');
      close(totals.manualSwitchesPerMinute, 1 / (17 / 60), 'manual switches per minute');
    });

    it('retention, breakdowns and the series', async () => {
      const report = (
        await t.request({ method: 'GET', url: `/api/v1/videos/${VIDEO}/stats?granularity=hour` })
      ).json();
      assert.equal(report.retention.length, 101);
      // A watched 0–13 s (0–65 %), B 0–4 s (0–20 %); four sessions.
      assert.deepEqual(
        [0, 20, 21, 65, 66, 100].map((point) => report.retention[point]),
        [0.5, 0.5, 0.25, 0.25, 0, 0],
      );
      assert.deepEqual(
        report.breakdowns.browser.map((row: { value: string; sessions: number; views: number }) => [
          row.value,
          row.sessions,
          row.views,
        ]),
        [['Firefox', 4, 1]],
      );
      assert.deepEqual(
        report.breakdowns.height.map((row: { value: string; watchTimeSeconds: number }) => [
          row.value,
          row.watchTimeSeconds,
        ]),
        [
          ['720', 13],
          ['360', 4],
        ],
      );
      assert.equal(report.series.length, 1);
      assert.equal(report.series[0].start, new Date(Math.floor(t0 / 3_600_000) * 3_600_000).toISOString());
      assert.equal(report.series[0].views, 1);
    });

    it('filtered to one browser, OS or device class', async () => {
      const firefox = (
        await t.request({ method: 'GET', url: `/api/v1/videos/${VIDEO}/stats?browser=Firefox` })
      ).json();
      assert.deepEqual(firefox.filter, { dimension: 'browser', value: 'Firefox' });
      assert.deepEqual(
        [firefox.totals.sessions, firefox.totals.views, firefox.totals.watchTimeSeconds],
        [4, 1, 17],
      );
      close(firefox.totals.rebufferPercent, (100 * 1) / 18, 'filtered rebuffer %');
      close(firefox.totals.playbackFailurePercent, 25, 'filtered failure %');
      const chrome = (
        await t.request({ method: 'GET', url: `/api/v1/videos/${VIDEO}/stats?browser=Chrome` })
      ).json();
      assert.deepEqual([chrome.totals.sessions, chrome.series], [0, []]);
      const both = await t.request({
        method: 'GET',
        url: `/api/v1/videos/${VIDEO}/stats?browser=Firefox&os=Linux`,
      });
      assert.deepEqual([both.statusCode, both.json().error.code], [400, 'VALIDATION_FAILED']);
      const linux = (await t.request({ method: 'GET', url: '/api/v1/stats?os=Linux' })).json();
      assert.equal(linux.totals.sessions, 4);
    });

    it('CSV export of the series', async () => {
      const response = await t.request({
        method: 'GET',
        url: `/api/v1/videos/${VIDEO}/stats?granularity=hour&format=csv`,
      });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/csv/);
      const [header, line] = response.body.trim().split('\n');
      assert.ok(header!.startsWith('start,views,uniqueViewers,sessions,watchTimeSeconds'));
      assert.ok(
        line!.startsWith(`${new Date(Math.floor(t0 / 3_600_000) * 3_600_000).toISOString()},1,2,4,17,`),
      );
    });

    it('across videos: the admin sees every video, with the top ones', async () => {
      const report = (await t.request({ method: 'GET', url: '/api/v1/stats' })).json();
      assert.equal(report.totals.views, 1);
      assert.equal(report.top.byViews[0].videoId, VIDEO);
      // Over whole UTC days the ranking reads the daily sums: the same answer.
      const midnight = Math.floor(Date.now() / 86_400_000) * 86_400_000;
      const days = `from=${new Date(midnight - 86_400_000).toISOString()}&to=${new Date(midnight + 86_400_000).toISOString()}`;
      const daily = (await t.request({ method: 'GET', url: `/api/v1/stats?${days}` })).json();
      assert.deepEqual(
        daily.top.byViews.map((video: { videoId: string; views: number; watchTimeSeconds: number }) => [
          video.videoId,
          video.views,
          video.watchTimeSeconds,
        ]),
        [[VIDEO, 1, 17]],
      );
      const own = (await t.request({ method: 'GET', url: '/api/v1/stats', auth: member })).json();
      assert.equal(own.totals.sessions, 0, 'a member sees only its own videos');
      // A view of the member's own video: in its statistics and the admin's, as rollups kept by the flush.
      await seedVideo(t, 'statsMember1', { duration_seconds: 4, owner_key_id: memberKeyId });
      const now = Date.now() - 5000;
      await send(t, {
        videoId: 'statsMember1',
        sessionId: 'session-member-01',
        viewerId: 'viewer-member-01',
        seq: 0,
        events: [
          { type: 'start', t: now },
          { type: 'heartbeat', t: now + 3000, position: 3, watched: 3 },
        ],
      });
      await t.app.views.recorder.flush();
      const mine = (await t.request({ method: 'GET', url: '/api/v1/stats', auth: member })).json();
      assert.deepEqual([mine.totals.views, mine.totals.sessions, mine.totals.watchTimeSeconds], [1, 1, 3]);
      assert.deepEqual(
        mine.top.byViews.map((video: { videoId: string }) => video.videoId),
        ['statsMember1'],
      );
      const all = (await t.request({ method: 'GET', url: '/api/v1/stats' })).json();
      assert.deepEqual([all.totals.views, all.totals.sessions], [2, 5]);
    });

    it('who may read: the owner or an admin; bad ranges are refused', async () => {
      assert.equal(
        (await t.request({ method: 'GET', url: `/api/v1/videos/${VIDEO}/stats`, auth: null })).statusCode,
        401,
      );
      const refused = await t.request({ method: 'GET', url: `/api/v1/videos/${VIDEO}/stats`, auth: member });
      assert.deepEqual([refused.statusCode, refused.json().error.code], [403, 'FORBIDDEN']);
      for (const query of [
        'from=yesterday',
        'from=2026-12-01&to=2026-11-01',
        'from=2024-01-01&to=2026-01-01',
        'from=2026-01-01&to=2026-03-01&granularity=hour',
      ]) {
        const response = await t.request({ method: 'GET', url: `/api/v1/videos/${VIDEO}/stats?${query}` });
        assert.deepEqual(
          [response.statusCode, response.json().error.code],
          [400, 'VALIDATION_FAILED'],
          query,
        );
      }
    });
  }),
);
