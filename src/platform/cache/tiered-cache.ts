import type { CacheStore } from './cache.ts';
import type { LruCacheStore } from './lru-cache.ts';

/** The shared tier (Redis): a value with its remaining lifetime, and whether it can be asked at all. */
export interface SharedTier extends CacheStore {
  entry(key: string): Promise<{ text: string; ttlMs: number } | undefined>;
  readonly connected: boolean;
}

/** How one namespace is served, counted since the process started. */
export interface NamespaceStats {
  l1Hits: number;
  l2Hits: number;
  misses: number;
}

export interface CacheStats {
  /** Entries held in this process (L1). */
  entries: number;
  /** Whether the shared tier is configured, and reachable right now. */
  l2: 'off' | 'up' | 'down';
  l2Errors: number;
  /** Per top-level namespace (`catalog`, `playback`, …). */
  namespaces: Record<string, NamespaceStats>;
}

export interface TieredCacheOptions {
  l1: LruCacheStore;
  l2?: SharedTier | undefined;
  /** Told once when the shared tier starts failing (and once when it works again). */
  onL2Health?: (healthy: boolean, error?: unknown) => void;
}

/**
 * L1 (this process's memory) in front of an optional L2 (Redis, shared by every node). A read tries L1,
 * then L2 (copying a hit into L1 for the time it has left), and counts which tier answered. Writes and
 * deletes go to both. L2 is a help, never a dependency: while it is unreachable it is skipped without
 * waiting, its failures are reported once, and reads fall through to the loader (the database).
 */
export class TieredCacheStore implements CacheStore {
  readonly #l1: LruCacheStore;
  readonly #l2: SharedTier | undefined;
  readonly #onL2Health: (healthy: boolean, error?: unknown) => void;
  readonly #namespaces = new Map<string, NamespaceStats>();
  #l2Errors = 0;
  #l2Healthy = true;

  constructor(options: TieredCacheOptions) {
    this.#l1 = options.l1;
    this.#l2 = options.l2;
    this.#onL2Health = options.onL2Health ?? (() => {});
  }

  async get(key: string): Promise<string | undefined> {
    const stats = this.#statsOf(key);
    const local = await this.#l1.get(key);
    if (local !== undefined) {
      stats.l1Hits++;
      return local;
    }
    const shared = await this.#l2Call((l2) => l2.entry(key));
    if (shared) {
      stats.l2Hits++;
      await this.#l1.set(key, shared.text, shared.ttlMs);
      return shared.text;
    }
    stats.misses++;
    return undefined;
  }

  async set(key: string, text: string, ttlMs: number): Promise<void> {
    await this.#l1.set(key, text, ttlMs);
    await this.#l2Call((l2) => l2.set(key, text, ttlMs));
  }

  async delete(key: string): Promise<void> {
    await this.#l1.delete(key);
    await this.#l2Call((l2) => l2.delete(key));
  }

  stats(): CacheStats {
    return {
      entries: this.#l1.size,
      l2: !this.#l2 ? 'off' : this.#l2.connected && this.#l2Healthy ? 'up' : 'down',
      l2Errors: this.#l2Errors,
      namespaces: Object.fromEntries([...this.#namespaces].map(([name, stats]) => [name, { ...stats }])),
    };
  }

  /** Runs `call` on L2 when there is one and it is connected; a failure counts as a miss. */
  async #l2Call<T>(call: (l2: SharedTier) => Promise<T>): Promise<T | undefined> {
    const l2 = this.#l2;
    if (!l2?.connected) return undefined;
    try {
      const result = await call(l2);
      this.#setHealthy(true);
      return result;
    } catch (error) {
      this.#l2Errors++;
      this.#setHealthy(false, error);
      return undefined;
    }
  }

  #setHealthy(healthy: boolean, error?: unknown): void {
    if (healthy === this.#l2Healthy) return;
    this.#l2Healthy = healthy;
    this.#onL2Health(healthy, error);
  }

  /** Full keys are `namespace[/sub…]:key`: counted under their first namespace. */
  #statsOf(fullKey: string): NamespaceStats {
    const name = fullKey.split(/[/:]/, 1)[0] || '(root)';
    let stats = this.#namespaces.get(name);
    if (!stats) {
      stats = { l1Hits: 0, l2Hits: 0, misses: 0 };
      this.#namespaces.set(name, stats);
    }
    return stats;
  }
}
