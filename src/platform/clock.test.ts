import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { clockContract } from './clock.contract.ts';
import { ManualClock, SystemClock, systemClock } from './clock.ts';

clockContract('system', () => ({ clock: systemClock, pass: (ms) => sleep(ms) }));

clockContract('manual', () => {
  const clock = new ManualClock();
  return { clock, pass: async (ms) => clock.advance(ms) };
});

describe('SystemClock', () => {
  it('reads the wall clock', () => {
    const before = Date.now();
    const reading = new SystemClock().nowMs();
    assert.ok(reading >= before && reading <= Date.now());
  });

  it('holds still when the wall clock steps back, and follows it again once it catches up', (t) => {
    const wall = mock.method(Date, 'now', () => 10_000);
    t.after(() => wall.mock.restore());
    const clock = new SystemClock();
    assert.equal(clock.nowMs(), 10_000);
    wall.mock.mockImplementation(() => 9_000);
    assert.equal(clock.nowMs(), 10_000);
    assert.equal(clock.now().getTime(), 10_000);
    wall.mock.mockImplementation(() => 10_500);
    assert.equal(clock.nowMs(), 10_500);
  });
});

describe('ManualClock', () => {
  it('starts at a fixed instant, or at the one it is given', () => {
    assert.equal(new ManualClock().now().toISOString(), '2024-01-01T00:00:00.000Z');
    assert.equal(new ManualClock(new Date('2025-06-01T12:00:00Z')).nowMs(), Date.UTC(2025, 5, 1, 12));
    assert.equal(new ManualClock(1234).nowMs(), 1234);
  });

  it('stands still until advanced', () => {
    const clock = new ManualClock(1000);
    assert.equal(clock.nowMs(), 1000);
    assert.equal(clock.nowMs(), 1000);
    clock.advance(250);
    assert.equal(clock.nowMs(), 1250);
    clock.advance(0);
    assert.equal(clock.now().getTime(), 1250);
  });

  it('jumps forward with set, to the same instant or later', () => {
    const clock = new ManualClock(1000);
    clock.set(new Date(5000));
    assert.equal(clock.nowMs(), 5000);
    clock.set(5000);
    assert.equal(clock.nowMs(), 5000);
  });

  it('refuses to run backwards or to take times that are not whole milliseconds', () => {
    const clock = new ManualClock(1000);
    assert.throws(() => clock.set(999), RangeError);
    assert.throws(() => clock.advance(-1), RangeError);
    for (const bad of [0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => clock.advance(bad), RangeError);
      assert.throws(() => clock.set(bad), RangeError);
    }
    assert.throws(() => clock.set(new Date('not a date')), RangeError);
    assert.throws(() => new ManualClock(Number.NaN), RangeError);
    assert.equal(clock.nowMs(), 1000, 'a refused change leaves the clock where it was');
  });
});
