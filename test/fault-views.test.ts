import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VideoRepository } from '../src/catalog/video-repository.ts';
import { openPGlite } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrations.ts';
import { type ServerProcess, startServerProcess } from './support/server-process.ts';
import { videoFixture } from './support/videos.ts';

const VIDEO = 'faultViews01'; // 4 s long: 2 s watched make a view
const FLUSH_SECONDS = 1;

/** One session's only batch: it asks to play and watches 2 s — one view, from its own viewer. */
function viewBatch(n: number) {
  const t = Date.now() - 3000;
  return {
    videoId: VIDEO,
    sessionId: `fault-session-${String(n).padStart(5, '0')}`,
    viewerId: `fault-viewer-${String(n).padStart(5, '0')}`,
    seq: 0,
    events: [
      { type: 'start', t },
      { type: 'firstFrame', t: t + 100 },
      { type: 'heartbeat', t: t + 2100, position: 2, watched: 2 },
    ],
  };
}

/**
 * Fault test: the server is SIGKILLed at random moments (mid-flush or not) while beacons arrive. A crash
 * loses at most the beacons acknowledged within the last flush interval, and never counts one twice:
 * after every batch is sent again (as players retry), each session has counted exactly once.
 */
describe('views survive a SIGKILLed server', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  let env: Record<string, string>;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-fault-views-'));
    env = {
      DATA_DIR: path.join(dir, 'data'),
      VIEW_FLUSH_SECONDS: String(FLUSH_SECONDS),
      WORKERS: 'false',
      RATE_LIMIT_BEACONS_PER_MINUTE: '100000', // every player here shares one address
    };
    // The video exists before the server starts (the embedded database is one process's).
    const database = await openPGlite(path.join(dir, 'data', 'db'));
    await migrate(database.db);
    await new VideoRepository(database.db).insert(database.db, videoFixture(VIDEO, { duration_seconds: 4 }));
    await database.db
      .updateTable('videos')
      .set({ status: 'ready', playable: true })
      .where('id', '=', VIDEO)
      .execute();
    await database.close();
  });
  after(async () => {
    await server?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const post = (body: unknown) =>
    fetch(`${server!.baseUrl}/api/v1/playback/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(
      (response) => response.status,
      () => 0, // the server is gone
    );
  const views = async () =>
    (await (await fetch(`${server!.baseUrl}/api/v1/videos/${VIDEO}`)).json()).views as number;

  it('loses only what came after the last flush, and counts every session exactly once after a replay', async () => {
    const lagsMs: number[] = [];
    let sent = 0;
    for (let round = 0; round < 3; round++) {
      // Each round's own beacons (what earlier rounds lost is not this round's to keep).
      const acknowledgedAt = new Map<number, number>();
      server = await startServerProcess(env);
      const before = await views();
      // Beacons at a steady pace; the kill comes at a random moment, 2–3 s in.
      const killAt = Date.now() + 2000 + Math.random() * 1000;
      while (Date.now() < killAt) {
        const n = sent++;
        if ((await post(viewBatch(n))) === 202) acknowledgedAt.set(n, Date.now());
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // What the server says it has written (every beacon acknowledged before that instant), read just
      // before the kill: all of it must survive, and the flush loop must be keeping up.
      const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
      const flushedThrough =
        1000 * Number(/^reel_view_flushed_through_seconds ([\d.e+-]+)$/m.exec(metrics)?.[1] ?? 'NaN');
      const killedAt = Date.now();
      await server.kill();
      assert.ok(
        killedAt - flushedThrough < 2 * FLUSH_SECONDS * 1000 + 1000, // one interval + one flush, with room
        `round ${round}: written only up to ${killedAt - flushedThrough} ms before the kill`,
      );
      server = await startServerProcess(env);
      const counted = (await views()) - before;
      // Acknowledged (as the client saw it) before the server's instant: accepted before it, so written.
      const written = [...acknowledgedAt.values()].filter((at) => at < flushedThrough).length;
      assert.ok(
        counted >= written,
        `round ${round}: ${counted} views, but ${written} beacons were written before the kill`,
      );
      assert.ok(
        counted <= acknowledgedAt.size,
        `round ${round}: ${counted} views from ${acknowledgedAt.size} sessions`,
      );
      lagsMs.push(killedAt - flushedThrough);
      await server.stop();
    }
    // Every player sends its batch again: what was counted stays counted once, what was lost counts now.
    server = await startServerProcess(env);
    for (let n = 0; n < sent; n++) assert.equal(await post(viewBatch(n)), 202);
    const deadline = Date.now() + 10_000;
    while ((await views()) < sent && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    await new Promise((resolve) => setTimeout(resolve, FLUSH_SECONDS * 1000 * 2));
    assert.equal(await views(), sent);
    console.log(`# unwritten at the kills: ${lagsMs.map((ms) => `${Math.round(ms)} ms`).join(', ')}`);
  });
});
