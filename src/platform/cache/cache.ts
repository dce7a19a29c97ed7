/**
 * A cache of JSON-serialisable values with a time to live. Values go in and come out through JSON, so
 * every backend behaves alike: a Date comes back as its ISO string, and a caller never holds an object
 * the cache (or another caller) also holds.
 */
export interface Cache {
  /** The value stored under `key`, or undefined when missing or expired. */
  get<T>(key: string): Promise<T | undefined>;
  /** Stores `value` (replacing any value and TTL the key had); TypeError if it is not JSON. */
  set(key: string, value: unknown, options: CacheSetOptions): Promise<void>;
  /** Removes `key`; nothing happens when it is missing. */
  delete(key: string): Promise<void>;
  /**
   * The cached value, or the result of `load` stored for `ttlMs`. Concurrent misses for one key in
   * this process share one `load`. A failed load is not cached: every waiter gets its error and the
   * next call loads again. Use `null` to cache absence (undefined is not JSON). `ttlMs` may depend on
   * the value loaded: a function answering 0 keeps that value out of the cache (e.g. a row still changing).
   */
  getOrLoad<T>(key: string, ttlMs: number | ((value: T) => number), load: () => Promise<T>): Promise<T>;
  /**
   * A cache over the same backend whose keys cannot meet this one's or another namespace's, so each
   * domain can name its keys freely. Names are letters, digits, `.`, `_` and `-`.
   */
  namespace(name: string): Cache;
}

export interface CacheSetOptions {
  /** Time to live in whole milliseconds (> 0): the value is readable for `ttlMs`, gone after. */
  ttlMs: number;
}

/** What a backend provides: strings under full keys, with expiry. The JSON, keys and single-flight live in `cacheOver`. */
export interface CacheStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, text: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface CacheOverOptions {
  /**
   * Spread of every TTL stored, as a fraction: 0.1 keeps each entry 90–110 % of its TTL, so entries
   * filled together (after a deploy or an invalidation) do not all expire, and reload, at one instant.
   */
  jitter?: number;
  /** Uniform in [0, 1) (default Math.random); tests pin it. */
  random?: () => number;
}

/** A Cache over a store. Build one per store and hand domains `namespace(...)` views of it. */
export function cacheOver(store: CacheStore, options: CacheOverOptions = {}): Cache {
  const jitter = options.jitter ?? 0;
  if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`jitter must be in [0, 1), got ${jitter}`);
  const random = options.random ?? Math.random;
  const spread =
    jitter === 0 ? (ttlMs: number) => ttlMs : (ttlMs: number) => jittered(ttlMs, jitter, random());
  return new JsonCache({ store, spread, flights: new Map() }, '');
}

/** `ttlMs` scaled by a factor in [1 − jitter, 1 + jitter), never below 1 ms. */
export function jittered(ttlMs: number, jitter: number, unit: number): number {
  return Math.max(1, Math.round(ttlMs * (1 - jitter + 2 * jitter * unit)));
}

/** What every namespace of one store shares. */
interface Shared {
  store: CacheStore;
  /** The TTL actually stored for a requested one (jitter). */
  spread: (ttlMs: number) => number;
  /** Loads in progress, keyed by full key. */
  flights: Map<string, Flight>;
}

/** A load in progress; `superseded` when the key was set or deleted meanwhile, so its result is not stored. */
interface Flight {
  text: Promise<string>;
  superseded: boolean;
}

const NAMESPACE_NAME = /^[A-Za-z0-9._-]+$/;

class JsonCache implements Cache {
  readonly #shared: Shared;
  readonly #store: CacheStore;
  /** Namespace names joined with '/'; neither ':' nor '/' can occur in a name, so keys stay unambiguous. */
  readonly #path: string;
  readonly #flights: Map<string, Flight>;

  constructor(shared: Shared, path: string) {
    this.#shared = shared;
    this.#store = shared.store;
    this.#path = path;
    this.#flights = shared.flights;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const text = await this.#store.get(this.#fullKey(key));
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async set(key: string, value: unknown, options: CacheSetOptions): Promise<void> {
    const fullKey = this.#fullKey(key);
    checkTtl(options.ttlMs);
    const text = encode(value);
    this.#supersede(fullKey);
    await this.#store.set(fullKey, text, this.#shared.spread(options.ttlMs));
  }

  async delete(key: string): Promise<void> {
    const fullKey = this.#fullKey(key);
    this.#supersede(fullKey);
    await this.#store.delete(fullKey);
  }

  async getOrLoad<T>(
    key: string,
    ttlMs: number | ((value: T) => number),
    load: () => Promise<T>,
  ): Promise<T> {
    const fullKey = this.#fullKey(key);
    if (typeof ttlMs === 'number') checkTtl(ttlMs);
    const ttlOf = typeof ttlMs === 'number' ? () => ttlMs : (ttlMs as (value: unknown) => number);
    const flight = this.#flights.get(fullKey) ?? this.#startFlight(fullKey, ttlOf, load);
    // Each waiter parses its own copy: no two callers share one object.
    return JSON.parse(await flight.text) as T;
  }

  namespace(name: string): Cache {
    if (!NAMESPACE_NAME.test(name))
      throw new RangeError(`cache namespace ${JSON.stringify(name)} is not allowed`);
    return new JsonCache(this.#shared, this.#path ? `${this.#path}/${name}` : name);
  }

  #startFlight(fullKey: string, ttlOf: (value: unknown) => number, load: () => Promise<unknown>): Flight {
    const flight: Flight = {
      superseded: false,
      text: this.#fly(fullKey, ttlOf, load, () => flight.superseded).finally(() => {
        if (this.#flights.get(fullKey) === flight) this.#flights.delete(fullKey);
      }),
    };
    this.#flights.set(fullKey, flight);
    return flight;
  }

  async #fly(
    fullKey: string,
    ttlOf: (value: unknown) => number,
    load: () => Promise<unknown>,
    superseded: () => boolean,
  ): Promise<string> {
    const cached = await this.#store.get(fullKey);
    if (cached !== undefined) return cached;
    const value = await load();
    const text = encode(value);
    const ttlMs = ttlOf(value);
    if (ttlMs !== 0) checkTtl(ttlMs);
    // A set or delete that came during the load is newer than what the load read: keep it.
    if (ttlMs !== 0 && !superseded()) await this.#store.set(fullKey, text, this.#shared.spread(ttlMs));
    return text;
  }

  /** A write to `fullKey` makes the load in progress stale; the next getOrLoad starts afresh. */
  #supersede(fullKey: string): void {
    const flight = this.#flights.get(fullKey);
    if (!flight) return;
    flight.superseded = true;
    this.#flights.delete(fullKey);
  }

  #fullKey(key: string): string {
    if (typeof key !== 'string' || key === '') throw new TypeError('a cache key is a non-empty string');
    return `${this.#path}:${key}`;
  }
}

function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`a cache TTL is a whole number of milliseconds > 0, got ${ttlMs}`);
  }
}

function encode(value: unknown): string {
  // JSON.stringify returns undefined for undefined, functions and symbols, and throws for BigInt.
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`a cache value must be JSON-serialisable: ${(error as Error).message}`);
  }
  if (text === undefined) throw new TypeError(`a cache value must be JSON-serialisable, got ${typeof value}`);
  return text;
}
