import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VideoApi } from './video-api.ts';
import { nextEvents } from './video-events.ts';

/** Only the fields nextEvents reads matter; the rest ride along as the event data. */
function video(
  status: VideoApi['status'],
  percent: number,
  playable = false,
  etaSeconds: number | null = null,
): VideoApi {
  return { id: 'video0000001', status, playable, progress: { percent, etaSeconds } } as VideoApi;
}

const names = (result: ReturnType<typeof nextEvents>) => result.events.map((e) => e.event);

describe('nextEvents', () => {
  it('first look at a processing video: one progress event, not done', () => {
    const v = video('processing', 0);
    assert.deepEqual(nextEvents(undefined, v), {
      events: [{ event: 'progress', data: v }],
      state: { key: '["processing",{"percent":0,"etaSeconds":null},false]', playableAnnounced: false },
      done: false,
    });
  });

  it('nothing changed: no events, same state', () => {
    const first = nextEvents(undefined, video('processing', 12.5, false, 30));
    const again = nextEvents(first.state, video('processing', 12.5, false, 30));
    assert.deepEqual(again, { events: [], state: first.state, done: false });
  });

  it('progress or ETA changes: a progress event each time', () => {
    const a = nextEvents(undefined, video('processing', 10, false, 30));
    const b = nextEvents(a.state, video('processing', 20, false, 30));
    const c = nextEvents(b.state, video('processing', 20, false, 25));
    assert.deepEqual(names(b), ['progress']);
    assert.deepEqual(names(c), ['progress']);
    assert.equal(c.events[0]!.data.progress.etaSeconds, 25);
  });

  it('becomes playable: progress then playable, announced once only', () => {
    const a = nextEvents(undefined, video('processing', 40));
    const b = nextEvents(a.state, video('processing', 40, true));
    assert.deepEqual(names(b), ['progress', 'playable']);
    assert.deepEqual(b.state, {
      key: '["processing",{"percent":40,"etaSeconds":null},true]',
      playableAnnounced: true,
    });
    const c = nextEvents(b.state, video('processing', 60, true));
    assert.deepEqual(names(c), ['progress']);
    assert.equal(c.done, false);
  });

  it('ready: progress, playable (if not yet announced), ready, done', () => {
    const a = nextEvents(undefined, video('processing', 90));
    const ready = video('ready', 100, true, 0);
    const b = nextEvents(a.state, ready);
    assert.deepEqual(b.events, [
      { event: 'progress', data: ready },
      { event: 'playable', data: ready },
      { event: 'ready', data: ready },
    ]);
    assert.equal(b.done, true);
  });

  it('ready after playable was announced: progress and ready only', () => {
    const a = nextEvents(undefined, video('processing', 50, true));
    assert.deepEqual(names(a), ['progress', 'playable']);
    const b = nextEvents(a.state, video('ready', 100, true, 0));
    assert.deepEqual(names(b), ['progress', 'ready']);
    assert.equal(b.done, true);
  });

  it('an already ready video on the first look: progress, playable, ready, done', () => {
    const result = nextEvents(undefined, video('ready', 100, true, 0));
    assert.deepEqual(names(result), ['progress', 'playable', 'ready']);
    assert.equal(result.done, true);
  });

  it('failed: progress then failed, done; not playable', () => {
    const a = nextEvents(undefined, video('processing', 30));
    const b = nextEvents(a.state, video('failed', 30));
    assert.deepEqual(names(b), ['progress', 'failed']);
    assert.equal(b.done, true);
    assert.equal(b.state.playableAnnounced, false);
  });

  it('deleted while listening: progress then deleted, done', () => {
    const a = nextEvents(undefined, video('processing', 30, true));
    const b = nextEvents(a.state, video('deleted', 30, false));
    assert.deepEqual(names(b), ['progress', 'deleted']);
    assert.equal(b.events[1]!.data.status, 'deleted');
    assert.equal(b.done, true);
  });

  it('a final status whose key did not change still ends the stream', () => {
    // Same [status, progress, playable] as the previous look: no progress event, but the end is sent.
    const a = nextEvents(undefined, video('failed', 0));
    const b = nextEvents(a.state, video('failed', 0));
    assert.deepEqual(names(b), ['failed']);
    assert.equal(b.done, true);
  });

  it('does not mutate the previous state', () => {
    const a = nextEvents(undefined, video('processing', 10));
    const frozen = Object.freeze({ ...a.state });
    nextEvents(frozen, video('processing', 20, true));
    assert.deepEqual(frozen, a.state);
  });
});
