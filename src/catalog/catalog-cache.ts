import { createHash } from 'node:crypto';
import type { Cache } from '../platform/cache/cache.ts';
import type { ChangeBus } from '../platform/changes/change-bus.ts';
import { VIDEO_CHANGES } from '../processing/jobs.ts';

export interface CatalogCacheDeps {
  /** The catalog's namespace of the platform cache (L1, plus Redis L2 when configured). */
  cache: Cache;
  changes: ChangeBus;
  /** CACHE_TTL_SECONDS; 0 turns the catalog cache off (every read goes to the database). */
  ttlSeconds: number;
}

/** The kinds of shared answers: each keyed by what decides its content. */
export type PageKind = 'list' | 'search' | 'suggest' | 'tags';

/**
 * What the catalog keeps between requests: videos by id, and the pages every visitor shares (public
 * lists, searches, suggestions, tags). Invalidation:
 * - a video's entry is deleted on every node when the video changes (ChangeBus: Redis pub/sub);
 * - pages are keyed by the generation of video changes, so any change retires all of them at once
 *   (on the node that made it before it answers; on the others when they hear of it).
 * Rows still processing are not cached: their progress moves every second.
 */
export class CatalogCache {
  readonly #cache: Cache;
  readonly #changes: ChangeBus;
  readonly #ttlMs: number;

  constructor(deps: CatalogCacheDeps) {
    this.#cache = deps.cache;
    this.#changes = deps.changes;
    this.#ttlMs = deps.ttlSeconds * 1000;
    deps.changes.subscribe(VIDEO_CHANGES, (id) => this.#cache.delete(videoKey(id)));
  }

  /** The video row by id (dates revived), loaded once per TTL across concurrent requests. */
  async video<Row extends { status: string }>(
    id: string,
    load: () => Promise<Row | undefined>,
  ): Promise<Row | undefined> {
    if (this.#ttlMs === 0) return load();
    const row = await this.#cache.getOrLoad<Row | null>(
      videoKey(id),
      (loaded) => (loaded === null || loaded.status === 'processing' ? 0 : this.#ttlMs),
      async () => (await load()) ?? null,
    );
    return row === null ? undefined : reviveDates(row);
  }

  /** A page every viewer with the same query shares; `query` is everything that decides its content. */
  async page<Page>(kind: PageKind, query: unknown, load: () => Promise<Page>): Promise<Page> {
    if (this.#ttlMs === 0) return load();
    const generation = this.#changes.generation(VIDEO_CHANGES);
    const digest = createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 22);
    return reviveDates(await this.#cache.getOrLoad(`${kind}:${generation}:${digest}`, this.#ttlMs, load));
  }

  /** Announces a committed change of a video: every node drops what it cached of it. */
  changed(id: string): Promise<void> {
    return this.#changes.publish(VIDEO_CHANGES, id);
  }
}

function videoKey(id: string): string {
  return `video:${id}`;
}

/** Timestamp columns come back from JSON as ISO strings: make them Dates again, as the database gives them. */
const DATE_COLUMNS = new Set(['created_at', 'updated_at', 'ready_at']);

/** In place: the cache hands every caller a copy of its own, so nothing else holds these objects. */
function reviveDates<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const field = record[key];
    if (DATE_COLUMNS.has(key) && typeof field === 'string') record[key] = new Date(field);
    else if (field !== null && typeof field === 'object') reviveDates(field);
  }
  return value;
}
