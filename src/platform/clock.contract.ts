import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from './clock.ts';

export interface ClockSubject {
  clock: Clock;
  /** Lets `ms` milliseconds pass for this clock (real sleep for the wall clock, advance for a manual one). */
  pass(ms: number): Promise<void>;
}

/** The behaviour every Clock must have. Registers a node:test suite; `make` is called per test. */
export function clockContract(name: string, make: () => ClockSubject): void {
  describe(`Clock contract: ${name}`, () => {
    it('gives whole milliseconds and a valid Date', () => {
      const { clock } = make();
      const ms = clock.nowMs();
      assert.ok(Number.isSafeInteger(ms), `nowMs() = ${ms}`);
      const date = clock.now();
      assert.ok(date instanceof Date);
      assert.ok(Number.isSafeInteger(date.getTime()), `now() = ${date}`);
    });

    it('never runs backwards across interleaved now() and nowMs() calls', () => {
      const { clock } = make();
      let previous = clock.nowMs();
      for (let i = 0; i < 10_000; i++) {
        const current = i % 2 === 0 ? clock.now().getTime() : clock.nowMs();
        assert.ok(current >= previous, `reading ${i}: ${current} < ${previous}`);
        previous = current;
      }
    });

    it('agrees between now() and nowMs()', () => {
      const { clock } = make();
      const before = clock.nowMs();
      const date = clock.now();
      const after = clock.nowMs();
      assert.ok(
        before <= date.getTime() && date.getTime() <= after,
        `${before} ≤ ${date.getTime()} ≤ ${after}`,
      );
    });

    it('hands out a fresh Date each time, so a caller mutating one does not move the clock', () => {
      const { clock } = make();
      const first = clock.now();
      const reading = first.getTime();
      first.setTime(0);
      first.setFullYear(1999);
      const second = clock.now();
      assert.notEqual(second, first);
      assert.ok(second.getTime() >= reading);
      assert.ok(clock.nowMs() >= reading);
    });

    it('moves forward by the time that passes', async () => {
      const subject = make();
      const before = subject.clock.nowMs();
      await subject.pass(25);
      // Timers and Date.now() round to whole milliseconds independently: allow 1 ms of slack.
      assert.ok(subject.clock.nowMs() - before >= 24, `moved ${subject.clock.nowMs() - before} ms`);
    });
  });
}
