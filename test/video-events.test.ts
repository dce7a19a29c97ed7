import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './support/harness.ts';
import { insertVideo } from './support/videos.ts';

// GET /api/v1/videos/:id/events over a real socket (inject() cannot stream), with rows changed in the
// database directly: no ffmpeg needed.

interface SseEvent {
  event: string;
  data: any;
}

interface Stream {
  response: Response;
  events: SseEvent[];
  /** Resolves when the server ends the stream ('ended') or we abort it ('aborted'). */
  ended: Promise<'ended' | 'aborted'>;
  close(): void;
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  const read = async (): Promise<'ended' | 'aborted'> => {
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return 'ended';
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
      }
      return 'ended';
    } catch (error) {
      if (controller.signal.aborted) return 'aborted';
      throw error;
    }
  };
  return { response, events, ended: read(), close: () => controller.abort() };
}

/** Opens a stream, retrying while the per-IP cap answers 429 (slots free asynchronously on close). */
async function openAdmitted(url: string): Promise<Stream> {
  let admitted: Stream | undefined;
  await waitFor('a free connection slot', async () => {
    const attempt = await openStream(url);
    if (attempt.response.status === 200) admitted = attempt;
    else await attempt.response.body?.cancel();
    return admitted !== undefined;
  });
  return admitted!;
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function listen(t: TestApp): Promise<string> {
  await t.app.http.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.http.server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

function setVideo(
  t: TestApp,
  id: string | string[],
  values: { status?: 'ready' | 'failed'; playable?: boolean; progress_percent?: number },
) {
  return t.app.database.db
    .updateTable('videos')
    .set({ ...values, updated_at: new Date() })
    .where('id', 'in', Array.isArray(id) ? id : [id])
    .execute();
}

/** Counts every read of the videos table the repository makes: per-row and batched alike. */
function countVideoReads(t: TestApp): { reads: number } {
  const counter = { reads: 0 };
  const repository = t.app.catalog.videos as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['find', 'findSummary', 'findSummaries']) {
    const original = repository[name];
    if (typeof original !== 'function') continue;
    repository[name] = (...args: unknown[]) => {
      counter.reads++;
      return original.apply(repository, args);
    };
  }
  return counter;
}

describe('video events: one database poll per process, configured CORS, lifecycle', () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    t = await startTestApp({
      env: { CORS_ORIGINS: 'https://a.example', SSE_MAX_CONNECTIONS_PER_IP: '400' },
    });
    base = await listen(t);
  });
  after(() => t.close());

  it('300 concurrent listeners on 3 videos cost O(1) queries per second, and all get the change', async (c) => {
    const ids = ['fanout000001', 'fanout000002', 'fanout000003'];
    for (const id of ids) await insertVideo(t, id);
    const streams = await Promise.all(
      Array.from({ length: 300 }, (_, i) => openStream(`${base}/api/v1/videos/${ids[i % 3]}/events`)),
    );
    c.after(() => {
      for (const stream of streams) stream.close(); // no-op for ended streams; frees them on failure
    });
    for (const stream of streams) assert.equal(stream.response.status, 200);
    await waitFor('the first event on every stream', () => streams.every((s) => s.events.length > 0));

    const counter = countVideoReads(t);
    const windowMs = 2200;
    await new Promise((resolve) => setTimeout(resolve, windowMs)); // a rate needs a measuring window
    // The feed polls once a second for every watched id together: 2 ticks in 2.2 s, 3 at most.
    assert.ok(counter.reads >= 1, 'the feed polls while listeners are connected');
    assert.ok(counter.reads <= 3, `${counter.reads} video reads in ${windowMs} ms with 300 listeners`);

    await setVideo(t, ids, { status: 'ready', playable: true, progress_percent: 100 });
    const ends = await within(
      Promise.all(streams.map((s) => s.ended)),
      10_000,
      'every stream ends after ready',
    );
    assert.ok(ends.every((end) => end === 'ended'));
    streams.forEach((stream, i) => {
      assert.deepEqual(
        stream.events.map((e) => e.event),
        ['progress', 'progress', 'playable', 'ready'],
        `stream ${i}`,
      );
      assert.equal(stream.events.at(-1)!.data.id, ids[i % 3]);
      assert.equal(stream.events.at(-1)!.data.status, 'ready');
    });
    assert.ok(counter.reads <= 20, `${counter.reads} video reads in total`);
  });

  it('CORS follows CORS_ORIGINS: an allowed origin is reflected, another gets no allow-origin', async () => {
    await insertVideo(t, 'corsvideo001');
    const url = `${base}/api/v1/videos/corsvideo001/events`;
    const allowed = await openStream(url, { origin: 'https://a.example' });
    const evil = await openStream(url, { origin: 'https://evil.example' });
    try {
      for (const stream of [allowed, evil]) {
        assert.equal(stream.response.status, 200);
        assert.equal(stream.response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
        assert.match(stream.response.headers.get('vary') ?? '', /\borigin\b/i);
      }
      assert.equal(allowed.response.headers.get('access-control-allow-origin'), 'https://a.example');
      assert.equal(evil.response.headers.get('access-control-allow-origin'), null);
      await waitFor('the first event', () => allowed.events.length > 0 && evil.events.length > 0);
    } finally {
      allowed.close();
      evil.close();
    }
  });

  it('a video that becomes ready: progress, then playable and ready, and the stream ends', async (c) => {
    await insertVideo(t, 'readyvideo01');
    const stream = await openStream(`${base}/api/v1/videos/readyvideo01/events`);
    c.after(() => stream.close());
    assert.equal(stream.response.status, 200);
    await waitFor('the first progress', () => stream.events.length === 1);
    assert.equal(stream.events[0]!.event, 'progress');
    assert.equal(stream.events[0]!.data.status, 'processing');

    await setVideo(t, 'readyvideo01', { progress_percent: 50 });
    await waitFor('progress 50 %', () => stream.events.length === 2);
    assert.deepEqual(stream.events[1]!.data.progress, { percent: 50, etaSeconds: null });

    await setVideo(t, 'readyvideo01', { status: 'ready', playable: true, progress_percent: 100 });
    assert.equal(await within(stream.ended, 5000, 'the stream ends after ready'), 'ended');
    assert.deepEqual(
      stream.events.map((e) => [e.event, e.data.status, e.data.progress.percent]),
      [
        ['progress', 'processing', 0],
        ['progress', 'processing', 50],
        ['progress', 'ready', 100],
        ['playable', 'ready', 100],
        ['ready', 'ready', 100],
      ],
    );
  });

  it('a video deleted while someone listens: a final `deleted` event, and the stream ends', async (c) => {
    await insertVideo(t, 'deletedvid01');
    const stream = await openStream(`${base}/api/v1/videos/deletedvid01/events`);
    c.after(() => stream.close());
    await waitFor('the first progress', () => stream.events.length === 1);
    // What DELETE /api/v1/videos/:id does to the row (a tombstone), without its ownership rules.
    assert.ok(await t.app.catalog.videos.markDeleted('deletedvid01'));
    assert.equal(await within(stream.ended, 5000, 'the stream ends after delete'), 'ended');
    assert.deepEqual(
      stream.events.map((e) => [e.event, e.data.status]),
      [
        ['progress', 'processing'],
        ['progress', 'deleted'],
        ['deleted', 'deleted'],
      ],
    );
    assert.equal(stream.events.at(-1)!.data.playback.hls, null);
    // Once deleted, a new listener is told so up front (410), as by GET /api/v1/videos/:id.
    const late = await fetch(`${base}/api/v1/videos/deletedvid01/events`);
    assert.equal(late.status, 410);
    assert.equal((await late.json()).error.code, 'VIDEO_DELETED');
  });

  it('a video made private while an anonymous client listens: the stream ends, revealing nothing', async (c) => {
    await insertVideo(t, 'hiddenvideo1');
    const stream = await openStream(`${base}/api/v1/videos/hiddenvideo1/events`);
    c.after(() => stream.close());
    await waitFor('the first progress', () => stream.events.length === 1);
    await t.app.database.db
      .updateTable('videos')
      .set({ visibility: 'private', progress_percent: 70, updated_at: new Date() })
      .where('id', '=', 'hiddenvideo1')
      .execute();
    assert.equal(await within(stream.ended, 5000, 'the stream ends once private'), 'ended');
    assert.deepEqual(
      stream.events.map((e) => [e.event, e.data.visibility]),
      [['progress', 'public']],
    );
  });
});

describe('video events: per-IP connection cap', () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    t = await startTestApp({ env: { SSE_MAX_CONNECTIONS_PER_IP: '2' } });
    base = await listen(t);
    await insertVideo(t, 'cappedvideo1');
  });
  after(() => t.close());

  it('answers 429 RATE_LIMITED past the cap and frees a slot when a stream closes', async (c) => {
    const url = `${base}/api/v1/videos/cappedvideo1/events`;
    const first = await openStream(url);
    const second = await openStream(url);
    const opened = [first, second];
    c.after(() => {
      for (const stream of opened) stream.close();
    });
    assert.equal(first.response.status, 200);
    assert.equal(second.response.status, 200);

    const third = await fetch(url);
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get('retry-after')) >= 1);
    assert.equal((await third.json()).error.code, 'RATE_LIMITED');

    first.close();
    assert.equal(await first.ended, 'aborted');
    // The server learns of the close asynchronously: retry until the slot is free.
    const reopened = await openAdmitted(url);
    opened.push(reopened);
    await waitFor('events on the reopened stream', () => reopened.events.length > 0);
    // The cap still holds with the freed slot taken again.
    const over = await fetch(url);
    assert.equal(over.status, 429);
    await over.body?.cancel();
  });

  it('closing the app ends the open streams (shutdown does not wait for listeners)', async (c) => {
    const stream = await openAdmitted(`${base}/api/v1/videos/cappedvideo1/events`);
    c.after(() => stream.close());
    await waitFor('the first event', () => stream.events.length > 0);
    const closing = t.app.http.close();
    assert.equal(await within(stream.ended, 2000, 'the stream ends on shutdown'), 'ended');
    // (close() itself may wait a few seconds more for sockets the client opened but never used.)
    await within(closing, 10_000, 'http.close() with a listener connected');
  });
});
