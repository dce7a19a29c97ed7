import type { Viewer } from '../auth/policy.ts';
import type { Db } from '../platform/db/database.ts';
import type { CatalogCache } from './catalog-cache.ts';
import { foldText, normalizeTag } from './video-fields.ts';
import { type ListInput, type ListPlan, planVideoList } from './video-list.ts';
import { type ListedVideo, listVideos, popularTags } from './video-list-query.ts';
import { type SearchPage, type Suggestion, searchVideos, suggest } from './video-search.ts';

export interface CatalogReaderDeps {
  /** The primary: what a key holder's own view reads (it must see its writes at once). */
  db: Db;
  /** DATABASE_READ_URL's replica (or the primary): what every visitor shares may lag a little. */
  readDb: Db;
  cache: CatalogCache;
}

export interface ListPage {
  rows: ListedVideo[];
  nextCursor: string | null;
}

const TAG_LIMIT = 20;
const NO_HIGHLIGHTS = { title: [], description: { snippet: '', ranges: [] } };

/**
 * Browsing and finding: the public catalog (shared by every visitor) is read from the replica through
 * the cache; a key holder's own view (`owner=me`, `status`) from the primary, uncached.
 */
export class CatalogReader {
  readonly #deps: CatalogReaderDeps;

  constructor(deps: CatalogReaderDeps) {
    this.#deps = deps;
  }

  /** A page of the catalog as this viewer may see it (video-list.ts decides who sees what). */
  list(input: ListInput, viewer: Viewer): Promise<ListPage> {
    const plan = planVideoList({ ...input, q: undefined }, viewer);
    return this.#shared(plan, 'list', (db) => listVideos(db, plan));
  }

  /** A page of search hits; an empty query answers the list. */
  async search(input: ListInput & { q: string }, viewer: Viewer): Promise<SearchPage> {
    if (input.q.trim() === '') {
      const page = await this.list(input, viewer);
      const rows = page.rows.map((row) => ({ ...row, highlights: NO_HIGHLIGHTS }));
      return { rows, nextCursor: page.nextCursor, corrections: [] };
    }
    const plan = planVideoList(input, viewer);
    return this.#shared(plan, 'search', (db) => searchVideos(db, plan));
  }

  /** Type-ahead completions of public titles and tags. */
  suggest(prefix: string): Promise<Suggestion[]> {
    // Keyed by what suggest() looks up (the folded prefix): `Kub` and `kub ` share one entry.
    return this.#deps.cache.page('suggest', foldText(prefix).trim(), () =>
      suggest(this.#deps.readDb, prefix),
    );
  }

  /** The most used tags of public videos, starting with `prefix`. */
  tags(prefix: string): Promise<Array<{ tag: string; count: number }>> {
    const folded = normalizeTag(prefix);
    return this.#deps.cache.page('tags', folded, () => popularTags(this.#deps.readDb, folded, TAG_LIMIT));
  }

  /** Public plans go through the cache to the replica; a key holder's own view straight to the primary. */
  #shared<Page>(plan: ListPlan, kind: 'list' | 'search', load: (db: Db) => Promise<Page>): Promise<Page> {
    if (plan.scope.kind !== 'public') return load(this.#deps.db);
    const { fingerprint, limit, after } = plan;
    return this.#deps.cache.page(kind, { fingerprint, limit, after }, () => load(this.#deps.readDb));
  }
}
