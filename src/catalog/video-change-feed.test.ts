import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VideoChangeFeed } from './video-change-feed.ts';
import type { VideoSummary } from './video-repository.ts';

const row = (id: string, progress = 0) => ({ id, progress_percent: progress }) as VideoSummary;

/** A fake `load` over an in-memory table that records every query's ids. */
function table(rows: VideoSummary[]) {
  const data = new Map(rows.map((r) => [r.id, r]));
  const queries: string[][] = [];
  let fail = false;
  return {
    data,
    queries,
    failNext() {
      fail = true;
    },
    async load(ids: string[]) {
      queries.push([...ids]);
      if (fail) {
        fail = false;
        throw new Error('database down');
      }
      return ids.flatMap((id) => (data.has(id) ? [data.get(id)!] : []));
    },
  };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('VideoChangeFeed', () => {
  it('one query per tick for every watched id, however many listeners', async () => {
    const db = table([row('a'), row('b')]);
    const feed = new VideoChangeFeed({ load: db.load, intervalMs: 10 });
    const seen: Array<[string, number | undefined]> = [];
    const stops = [];
    for (let i = 0; i < 100; i++) {
      const id = i % 2 === 0 ? 'a' : 'b';
      stops.push(feed.subscribe(id, (r) => seen.push([id, r?.progress_percent])));
    }
    await waitFor('one tick', () => seen.length >= 100);
    assert.equal(db.queries.length, 1);
    assert.deepEqual(db.queries[0], ['a', 'b']);
    assert.equal(seen.length, 100);
    assert.equal(seen.filter(([id]) => id === 'a').length, 50);
    for (const stop of stops) stop();
  });

  it('pushes fresh rows; an id without a row gets undefined (gone)', async () => {
    const db = table([row('a', 10)]);
    const feed = new VideoChangeFeed({ load: db.load, intervalMs: 5 });
    const a: Array<number | undefined> = [];
    const gone: unknown[] = [];
    const stopA = feed.subscribe('a', (r) => a.push(r?.progress_percent));
    const stopX = feed.subscribe('x', (r) => gone.push(r));
    await waitFor('first tick', () => a.length >= 1);
    db.data.set('a', row('a', 55));
    await waitFor('the new row', () => a.at(-1) === 55);
    assert.equal(a[0], 10);
    assert.ok(gone.length >= 1);
    assert.ok(gone.every((r) => r === undefined));
    stopA();
    stopX();
  });

  it('stops polling when the last listener leaves, and starts again on a new subscription', async () => {
    const db = table([row('a')]);
    const feed = new VideoChangeFeed({ load: db.load, intervalMs: 5 });
    let calls = 0;
    const stop = feed.subscribe('a', () => calls++);
    await waitFor('two ticks', () => calls >= 2);
    stop();
    stop(); // idempotent
    assert.equal(feed.listenerCount, 0);
    const queries = db.queries.length;
    await sleep(40); // 8 intervals: a running timer would have queried
    assert.equal(db.queries.length, queries);
    const again = feed.subscribe('a', () => calls++);
    await waitFor('a tick after resubscribing', () => db.queries.length > queries);
    again();
  });

  it('the first poll comes an interval after subscribing (the route has just read the row)', async () => {
    const db = table([row('a')]);
    const feed = new VideoChangeFeed({ load: db.load, intervalMs: 50 });
    const stop = feed.subscribe('a', () => {});
    await sleep(10);
    assert.equal(db.queries.length, 0);
    await waitFor('the first poll', () => db.queries.length === 1);
    stop();
  });

  it('a listener that unsubscribes another during a tick: the other is not called', async () => {
    const db = table([row('a')]);
    const feed = new VideoChangeFeed({ load: db.load, intervalMs: 5 });
    let secondCalls = 0;
    let stopSecond = () => {};
    const stopFirst = feed.subscribe('a', () => stopSecond());
    stopSecond = feed.subscribe('a', () => secondCalls++);
    await waitFor('a tick', () => db.queries.length >= 2);
    assert.equal(secondCalls, 0);
    stopFirst();
  });

  it('a failed query is reported and retried; a throwing listener does not starve the others', async () => {
    const db = table([row('a')]);
    const errors: string[] = [];
    const feed = new VideoChangeFeed({
      load: db.load,
      intervalMs: 5,
      onError: (error) => errors.push((error as Error).message),
    });
    db.failNext();
    let calls = 0;
    const stopBad = feed.subscribe('a', () => {
      throw new Error('listener broke');
    });
    const stopGood = feed.subscribe('a', () => calls++);
    await waitFor('a tick after the failure', () => calls >= 1);
    assert.equal(errors[0], 'database down');
    assert.ok(errors.includes('listener broke'));
    stopBad();
    stopGood();
  });

  it('never runs two polls at once: a slow query delays the next tick', async () => {
    let running = 0;
    let maxRunning = 0;
    let queries = 0;
    const feed = new VideoChangeFeed({
      intervalMs: 1,
      load: async (ids) => {
        queries++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(15);
        running--;
        return ids.map((id) => row(id));
      },
    });
    const stop = feed.subscribe('a', () => {});
    await waitFor('three polls', () => queries >= 3, 3000);
    stop();
    assert.equal(maxRunning, 1);
  });

  it('splits very many ids into bounded queries', async () => {
    const db = table([]);
    const feed = new VideoChangeFeed({ load: db.load, intervalMs: 5 });
    const stops = Array.from({ length: 2500 }, (_, i) => feed.subscribe(`v${i}`, () => {}));
    await waitFor('one tick', () => db.queries.length >= 3);
    assert.deepEqual(
      db.queries.slice(0, 3).map((ids) => ids.length),
      [1000, 1000, 500],
    );
    for (const stop of stops) stop();
  });

  it('close() stops polling and refuses new subscriptions', async () => {
    const db = table([row('a')]);
    const feed = new VideoChangeFeed({ load: db.load, intervalMs: 5 });
    let calls = 0;
    feed.subscribe('a', () => calls++);
    await waitFor('a tick', () => calls >= 1);
    feed.close();
    const queries = db.queries.length;
    await sleep(30);
    assert.equal(db.queries.length, queries);
    assert.throws(() => feed.subscribe('a', () => {}), /closed/);
  });
});
