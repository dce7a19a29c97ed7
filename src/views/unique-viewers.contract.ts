import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SeenViewer, UniqueViewers } from './unique-viewers.ts';

export interface UniqueViewersSubject {
  viewers: UniqueViewers;
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 2026-12-01T00:00:00Z */
const D0 = Date.UTC(2026, 11, 1);

/** What both implementations answer: distinct per day, summed over days, union over videos. */
export function uniqueViewersContract(
  name: string,
  make: () => Promise<UniqueViewersSubject>,
  skip?: string,
) {
  describe(`UniqueViewers contract: ${name}`, { skip }, () => {
    let subject: UniqueViewersSubject;
    let viewers: UniqueViewers;
    let seq = 0;
    const video = () => `uvvideo${process.pid}x${seq++}`;
    before(async () => {
      subject = await make();
      viewers = subject.viewers;
    });
    after(() => subject?.cleanup());

    it('counts a viewer once within a day, however many hours and times it is added', async () => {
      const v = video();
      const seen: SeenViewer[] = [
        { videoId: v, hour: D0 + HOUR, viewerHash: 'a' },
        { videoId: v, hour: D0 + HOUR, viewerHash: 'a' },
        { videoId: v, hour: D0 + 5 * HOUR, viewerHash: 'a' },
        { videoId: v, hour: D0 + 5 * HOUR, viewerHash: 'b' },
      ];
      await viewers.add(seen);
      await viewers.add(seen); // idempotent
      assert.equal(await viewers.count([v], D0, D0 + DAY), 2);
      assert.equal(await viewers.count([v], D0 + HOUR, D0 + 2 * HOUR), 1, 'one hour');
      assert.equal(await viewers.count([v], D0 + 2 * HOUR, D0 + 5 * HOUR), 0, 'hours without viewers');
    });

    it('adds up the days of a range (a viewer is recognised within a day only)', async () => {
      const v = video();
      await viewers.add([
        { videoId: v, hour: D0, viewerHash: 'a' },
        { videoId: v, hour: D0 + DAY + 3 * HOUR, viewerHash: 'a' },
        { videoId: v, hour: D0 + 2 * DAY + 23 * HOUR, viewerHash: 'c' },
      ]);
      assert.equal(await viewers.count([v], D0, D0 + 3 * DAY), 3);
      // A range that starts and ends mid-day.
      assert.equal(await viewers.count([v], D0 + 12 * HOUR, D0 + 2 * DAY + 23 * HOUR), 1);
      assert.equal(await viewers.count([v], D0 + 12 * HOUR, D0 + 3 * DAY), 2);
    });

    it('counts the union over several videos, and over every video', async () => {
      const [v1, v2] = [video(), video()];
      await viewers.add([
        { videoId: v1, hour: D0 + 30 * DAY, viewerHash: 'shared' },
        { videoId: v2, hour: D0 + 30 * DAY, viewerHash: 'shared' },
        { videoId: v2, hour: D0 + 30 * DAY, viewerHash: 'only-v2' },
      ]);
      assert.equal(await viewers.count([v1, v2], D0 + 30 * DAY, D0 + 31 * DAY), 2);
      assert.equal(await viewers.count([v1], D0 + 30 * DAY, D0 + 31 * DAY), 1);
      assert.ok((await viewers.count('all', D0 + 30 * DAY, D0 + 31 * DAY)) >= 2);
      assert.equal(await viewers.count([], D0, D0 + 40 * DAY), 0);
    });

    it('counts each hour or day of a range apart', async () => {
      const v = video();
      const day = D0 + 50 * DAY;
      await viewers.add([
        { videoId: v, hour: day + HOUR, viewerHash: 'a' },
        { videoId: v, hour: day + HOUR, viewerHash: 'b' },
        { videoId: v, hour: day + 3 * HOUR, viewerHash: 'a' },
        { videoId: v, hour: day + DAY, viewerHash: 'c' },
      ]);
      assert.deepEqual(
        [...(await viewers.countByBucket([v], day, day + 2 * DAY, 'hour'))],
        [
          [day + HOUR, 2],
          [day + 3 * HOUR, 1],
          [day + DAY, 1],
        ],
      );
      assert.deepEqual(
        [...(await viewers.countByBucket([v], day, day + 2 * DAY, 'day'))],
        [
          [day, 2],
          [day + DAY, 1],
        ],
      );
    });

    it('estimates 10 000 distinct viewers within 2 %', async () => {
      const v = video();
      const seen = Array.from({ length: 10_000 }, (_, i) => ({
        videoId: v,
        hour: D0 + 40 * DAY,
        viewerHash: `viewer-${i}`,
      }));
      await viewers.add(seen);
      const counted = await viewers.count([v], D0 + 40 * DAY, D0 + 41 * DAY);
      assert.ok(Math.abs(counted - 10_000) <= 200, `counted ${counted}`);
    });
  });
}
