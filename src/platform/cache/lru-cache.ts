import { LRUCache } from 'lru-cache';
import { type Clock, systemClock } from '../clock.ts';
import { type Cache, type CacheStore, cacheOver } from './cache.ts';

export interface LruCacheOptions {
  /** Most entries kept; the least recently used go first. */
  maxEntries: number;
  /**
   * Most characters of key + JSON kept in all (≈ bytes for ASCII JSON). A single entry larger than
   * this is not stored at all (and any older value under its key is dropped).
   */
  maxChars?: number;
  /** The time expiry is decided against (default: the system clock). */
  clock?: Clock;
}

interface Entry {
  text: string;
  expiresAtMs: number;
}

/**
 * The in-process store (L1): one process's memory, bounded by entries and size. Values are kept as
 * JSON text, so no caller can reach a cached object.
 *
 * Expiry is checked here against our Clock rather than by lru-cache's `ttl`: lru-cache reads time
 * from `performance.now()` (its `perf` option is meant for tests) and treats a start time of 0 as
 * "no TTL", so a ManualClock at the epoch would never expire anything.
 */
export class LruCacheStore implements CacheStore {
  readonly #entries: LRUCache<string, Entry>;
  readonly #clock: Clock;

  constructor(options: LruCacheOptions) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a whole number ≥ 1, got ${options.maxEntries}`);
    }
    this.#clock = options.clock ?? systemClock;
    this.#entries = new LRUCache<string, Entry>({
      max: options.maxEntries,
      ...(options.maxChars === undefined
        ? {}
        : { maxSize: options.maxChars, sizeCalculation: (entry, key) => entry.text.length + key.length }),
    });
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    // Readable for exactly ttlMs, gone after: the same rule as Redis (`now > expiry` expires).
    if (this.#clock.nowMs() > entry.expiresAtMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.text;
  }

  async set(key: string, text: string, ttlMs: number): Promise<void> {
    this.#entries.set(key, { text, expiresAtMs: this.#clock.nowMs() + ttlMs });
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  /** Entries held, expired ones included until they are read or evicted. */
  get size(): number {
    return this.#entries.size;
  }
}

/** An in-process Cache. */
export function createLruCache(options: LruCacheOptions): Cache {
  return cacheOver(new LruCacheStore(options));
}
