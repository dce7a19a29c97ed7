/**
 * The time source services read instead of `Date.now()` / `new Date()`, so rules that depend on time
 * (view windows, expiries, signed-URL lifetimes) can be decided against a clock the caller chooses.
 */
export interface Clock {
  /** The current time as a fresh Date: mutating it never changes the clock. */
  now(): Date;
  /** The current time in whole milliseconds since the Unix epoch; agrees with `now()`. */
  nowMs(): number;
}

/**
 * The wall clock, made non-decreasing. `Date.now()` steps back when NTP corrects the system time;
 * a rule comparing two readings ("expired?", "same view window?") must never see time run backwards,
 * so after a step back this clock holds still until the wall clock catches up.
 */
export class SystemClock implements Clock {
  #latestMs = 0;

  nowMs(): number {
    const wall = Date.now();
    if (wall > this.#latestMs) this.#latestMs = wall;
    return this.#latestMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }
}

/** The clock a process uses unless it was given another. */
export const systemClock: Clock = new SystemClock();

/**
 * A clock that moves only when told to: for deciding time rules deterministically (tests, replaying
 * recorded events, simulations). It never runs backwards, like the system clock.
 */
export class ManualClock implements Clock {
  #ms: number;

  /** Starts at `start` (default 2024-01-01T00:00:00Z: a fixed, non-zero, recognisable instant). */
  constructor(start: Date | number = Date.UTC(2024, 0, 1)) {
    this.#ms = toWholeMs(start, 'start');
  }

  nowMs(): number {
    return this.#ms;
  }

  now(): Date {
    return new Date(this.#ms);
  }

  /** Moves the clock forward by `ms` (a whole, non-negative number of milliseconds). */
  advance(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) {
      throw new RangeError(`advance needs whole non-negative milliseconds, got ${ms}`);
    }
    this.#ms += ms;
  }

  /** Jumps to `time`, which must not be earlier than the clock's current time. */
  set(time: Date | number): void {
    const ms = toWholeMs(time, 'time');
    if (ms < this.#ms) {
      throw new RangeError(`a clock never runs backwards: ${new Date(ms).toISOString()} is before now`);
    }
    this.#ms = ms;
  }
}

function toWholeMs(time: Date | number, name: string): number {
  const ms = time instanceof Date ? time.getTime() : time;
  if (!Number.isSafeInteger(ms)) throw new RangeError(`${name} must be a valid time, got ${String(time)}`);
  return ms;
}
