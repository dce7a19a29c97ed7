import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BeaconEvent } from './beacon.ts';
import {
  type AcceptedBatch,
  type FlushPlan,
  planFlush,
  type StoredSession,
  startupBin,
  viewerKey,
} from './flush-plan.ts';
import { DEFAULT_VIEW_RULES } from './view-rules.ts';

const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);
const CLIENT = { browser: 'Firefox', os: 'Linux', device: 'desktop' } as const;

/**
 * The view rules through the flush planner, with a simulated server: what one flush stores (sessions,
 * dedup windows) is what the next one is given, as the database would.
 */
class World {
  sessions = new Map<string, StoredSession>();
  lastViewAt = new Map<string, number>();
  views = 0;

  flush(batches: AcceptedBatch[]): FlushPlan {
    const plan = planFlush(batches, this.sessions, this.lastViewAt, DEFAULT_VIEW_RULES);
    for (const session of plan.sessions) this.sessions.set(session.id, session);
    for (const view of plan.lastViews) this.lastViewAt.set(viewerKey(view.videoId, view.viewerHash), view.at);
    for (const n of plan.viewsByVideo.values()) this.views += n;
    return plan;
  }
}

interface Play {
  world: World;
  sessionId: string;
  viewer?: string;
  duration: number;
  /** Server and client clocks start together at `at`. */
  at: number;
}

/**
 * A player that starts at `at`, shows its first frame 500 ms later, then sends a heartbeat every 10 s
 * (one batch each, received when sent) while playing `seconds`, optionally seeking first.
 */
function play(p: Play, seconds: number, options: { seekTo?: number } = {}): void {
  const batch = (seq: number, events: BeaconEvent[], receivedAt: number): AcceptedBatch => ({
    videoId: 'video1',
    sessionId: p.sessionId,
    viewerHash: p.viewer ?? 'viewer-a',
    seq,
    events,
    client: CLIENT,
    receivedAt,
    durationSeconds: p.duration,
    ownerKeyId: null,
  });
  let t = p.at;
  let position = 0;
  const events: BeaconEvent[] = [
    { type: 'start', t },
    { type: 'firstFrame', t: t + 500 },
  ];
  t += 500;
  if (options.seekTo !== undefined) {
    events.push({ type: 'seek', t, from: 0, to: options.seekTo });
    position = options.seekTo;
  }
  p.world.flush([batch(0, events, t)]);
  let seq = 1;
  for (let left = seconds; left > 0; ) {
    const step = Math.min(10, left);
    t += step * 1000;
    position = Math.min(p.duration, position + step);
    left -= step;
    p.world.flush([batch(seq++, [{ type: 'heartbeat', t, position, watched: step, height: 720 }], t)]);
  }
}

describe('view rules, through the flush planner', () => {
  const cases: Array<[string, number, number, { seekTo?: number }, number]> = [
    ['29 s of a 10-minute video: no view', 600, 29, {}, 0],
    ['30 s of a 10-minute video: a view', 600, 30, {}, 1],
    ['10 s (50 %) of a 20-s video: a view', 20, 10, {}, 1],
    ['9 s of a 20-s video: no view', 20, 9, {}, 0],
    ['seeking to the end and watching 5 s: no view', 600, 5, { seekTo: 595 }, 0],
    ['the whole of a 4-s clip: a view', 4, 4, {}, 1],
  ];
  for (const [name, duration, seconds, options, views] of cases) {
    it(name, () => {
      const world = new World();
      play({ world, sessionId: 's1', duration, at: T0 }, seconds, options);
      assert.equal(world.views, views);
    });
  }

  it('the same viewer twice within 30 minutes: one view; again after 31 minutes: two', () => {
    const world = new World();
    play({ world, sessionId: 's1', duration: 600, at: T0 }, 40);
    play({ world, sessionId: 's2', duration: 600, at: T0 + 10 * 60_000 }, 40);
    assert.equal(world.views, 1);
    play({ world, sessionId: 's3', duration: 600, at: T0 + 31 * 60_000 }, 40);
    assert.equal(world.views, 2);
    play({ world, sessionId: 's4', duration: 600, at: T0 + 32 * 60_000, viewer: 'viewer-b' }, 40);
    assert.equal(world.views, 3, 'another viewer is another view');
  });

  it('one session makes one view however long it watches', () => {
    const world = new World();
    play({ world, sessionId: 's1', duration: 600, at: T0 }, 300);
    assert.equal(world.views, 1);
  });

  it('claimed watching beyond the server’s time since the session began does not count', () => {
    const world = new World();
    // A client claims 10 s heartbeats every 10 s of its own clock, but sends them all at once.
    const events: BeaconEvent[] = [{ type: 'start', t: T0 }];
    for (let i = 1; i <= 5; i++)
      events.push({ type: 'heartbeat', t: T0 + i * 10_000, position: i * 10, watched: 10 });
    const plan = world.flush([
      {
        videoId: 'video1',
        sessionId: 'forged',
        viewerHash: 'x',
        seq: 0,
        events,
        client: CLIENT,
        receivedAt: T0,
        durationSeconds: 600,
        ownerKeyId: null,
      },
    ]);
    assert.equal(world.views, 0);
    assert.equal(plan.sessions[0]!.state.watchedSeconds, 15, 'capped at the first-batch slack');
  });
});

describe('flush planner sums (hand-computed session)', () => {
  it('startup, watch time per rendition, stalls, switches, upscaling, retention and concurrency', () => {
    const world = new World();
    const t = T0;
    const opening: BeaconEvent[] = [
      { type: 'start', t },
      { type: 'firstFrame', t: t + 800 },
    ];
    const events: BeaconEvent[] = [
      {
        type: 'heartbeat',
        t: t + 10_800,
        position: 10,
        watched: 10,
        height: 360,
        playerHeight: 720,
        bitrate: 800_000,
      },
      { type: 'rendition', t: t + 10_900, fromHeight: 360, toHeight: 720, auto: true },
      { type: 'stall', t: t + 11_000, phase: 'start' },
      { type: 'stall', t: t + 13_000, phase: 'end' },
      {
        type: 'heartbeat',
        t: t + 20_000,
        position: 17,
        watched: 7,
        height: 720,
        playerHeight: 720,
        bitrate: 2_400_000,
      },
      { type: 'rendition', t: t + 20_100, fromHeight: 720, toHeight: 480, auto: false },
    ];
    const batch = {
      videoId: 'video1',
      sessionId: 's',
      viewerHash: 'v',
      client: CLIENT,
      durationSeconds: 20,
      ownerKeyId: 'owner000001',
    };
    // Two batches in one flush: the opening one received at once, the rest 20 s later.
    const plan = world.flush([
      { ...batch, seq: 1, events, receivedAt: t + 20_000 },
      { ...batch, seq: 0, events: opening, receivedAt: t + 1000 },
    ]);
    const hour = plan.hours.find((row) => row.videoId === 'video1');
    assert.ok(hour);
    // The same sums go to the rollups of every video and of the owner's videos (retention aside).
    assert.deepEqual(plan.hours.map((row) => row.videoId).sort(), ['*', '@owner000001', 'video1']);
    for (const rollup of plan.hours.filter((row) => row !== hour)) {
      assert.deepEqual({ ...rollup, videoId: hour.videoId, retention: hour.retention }, hour);
      assert.equal(
        rollup.retention.reduce((a, b) => a + b, 0),
        0,
      );
    }
    assert.deepEqual(
      {
        sessions: hour.sessions,
        views: hour.views,
        startups: hour.startups,
        histogram: hour.startupHistogram,
        watch: hour.watchSeconds,
        stall: hour.stallSeconds,
        stalls: hour.stalls,
        switches: [hour.switchesAuto, hour.switchesManual],
        heights: hour.heightSeconds,
        bitrate: hour.bitrateSeconds / hour.bitrateWatched,
        upscale: hour.upscaleWeighted / hour.upscaleWatched,
      },
      {
        sessions: 1,
        views: 1, // 17 s ≥ 10 s (half of 20 s)
        startups: 1,
        histogram: { '800': 1 },
        watch: 17,
        stall: 2,
        stalls: 1,
        switches: [1, 1],
        heights: { '360': 10, '720': 7 },
        bitrate: (800_000 * 10 + 2_400_000 * 7) / 17,
        upscale: (1 * 10 + 0 * 7) / 17, // 360p shown 720 high: 100 % upscaled for 10 s
      },
    );
    // Watched 0–17 s of 20 s: the points at 0 %, 1 %, … 85 % (17 / 20) are covered.
    assert.deepEqual(hour.retention.slice(84, 88), [1, 1, 0, 0]);
    assert.equal(
      hour.retention.reduce((a, b) => a + b, 0),
      86,
    );
    assert.deepEqual(plan.minutes, [
      { videoId: 'video1', minute: T0, viewers: 1 },
      { videoId: '*', minute: T0, viewers: 1 },
      { videoId: '@owner000001', minute: T0, viewers: 1 },
    ]);
    assert.deepEqual(plan.uniques, [{ videoId: 'video1', hour: T0, viewerHash: 'v' }]);
  });

  it('startup bins: 50-ms steps below 1 s, 250-ms to 5 s, seconds after', () => {
    assert.deepEqual(
      [0, 49, 50, 999, 1000, 1249, 1250, 4999, 5000, 29_999, 120_000].map(startupBin),
      [0, 0, 50, 950, 1000, 1000, 1250, 4750, 5000, 29_000, 30_000],
    );
  });
});
