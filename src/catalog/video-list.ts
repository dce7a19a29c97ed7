import { createHash } from 'node:crypto';
import type { Viewer } from '../auth/policy.ts';
import { errors } from '../errors.ts';
import type { VideoStatus } from '../platform/db/schema.ts';
import { ID_PATTERN } from '../platform/ids.ts';
import { normalizeTags } from './video-fields.ts';

/**
 * Planning a page of the catalog (`GET /api/v1/videos`): who sees which videos, the filters, the order
 * and where the page starts. Pure; the repository turns a plan into one keyset query.
 */
export const LIST_SORTS = ['newest', 'oldest', 'duration', 'title', 'views', 'trending'] as const;
/** Search adds `relevance` (its default). */
export const SEARCH_SORTS = ['relevance', ...LIST_SORTS] as const;
export type ListSort = (typeof SEARCH_SORTS)[number];
export const LISTED_STATUSES = ['processing', 'failed', 'ready'] as const;
export const MAX_LIST_LIMIT = 100;
export const DEFAULT_LIST_LIMIT = 24;

export interface ListInput {
  /** A search query (GET /api/v1/search); part of what a cursor belongs to. */
  q?: string | undefined;
  sort?: ListSort | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
  category?: string | undefined;
  /** Tags to match, with `tagMode` any (default) or all. */
  tags?: string[] | undefined;
  tagMode?: 'any' | 'all' | undefined;
  durationMin?: number | undefined;
  durationMax?: number | undefined;
  uploadedAfter?: string | undefined;
  uploadedBefore?: string | undefined;
  status?: (typeof LISTED_STATUSES)[number] | undefined;
  owner?: 'me' | undefined;
}

/** A sort column, its direction and the SQL type its cursor key is read back as. */
export interface SortSpec {
  /** `rank`: the search's ts_rank, computed per query. */
  column: 'created_at' | 'duration_seconds' | 'title_sort' | 'views' | 'views_recent' | 'rank';
  direction: 'asc' | 'desc';
  keyType: 'timestamptz' | 'float8' | 'float4' | 'text' | 'int8';
}

/** `views`/`trending` are 0 until the views issue fills them: ties fall back to the id, so the order is deterministic. */
export const SORT_SPECS: Record<ListSort, SortSpec> = {
  relevance: { column: 'rank', direction: 'desc', keyType: 'float4' },
  newest: { column: 'created_at', direction: 'desc', keyType: 'timestamptz' },
  oldest: { column: 'created_at', direction: 'asc', keyType: 'timestamptz' },
  duration: { column: 'duration_seconds', direction: 'asc', keyType: 'float8' },
  title: { column: 'title_sort', direction: 'asc', keyType: 'text' },
  views: { column: 'views', direction: 'desc', keyType: 'int8' },
  trending: { column: 'views_recent', direction: 'desc', keyType: 'int8' },
};

export type ListScope = { kind: 'public' } | { kind: 'owner'; keyId: string } | { kind: 'all' };

export interface ListPlan {
  /** The search query as given (search only). */
  q: string | undefined;
  scope: ListScope;
  statuses: VideoStatus[];
  category: string | undefined;
  tags: { values: string[]; mode: 'any' | 'all' } | undefined;
  durationMin: number | undefined;
  durationMax: number | undefined;
  uploadedAfter: Date | undefined;
  uploadedBefore: Date | undefined;
  sort: ListSort;
  /** The page starts after this row (the previous page's last), in the sort's order. */
  after: { key: string; id: string } | undefined;
  limit: number;
  /** Identifies the query a cursor belongs to. */
  fingerprint: string;
}

/**
 * Who sees what: without a key, public ready videos only. `owner=me` (a key) lists the key's own
 * videos in any visibility and status but deleted. `status` needs a key: an admin then lists every
 * video in that status, a member its own.
 */
function scopeOf(input: ListInput, viewer: Viewer): { scope: ListScope; statuses: VideoStatus[] } {
  const wantsOwn = input.owner === 'me' || input.status !== undefined;
  if (!wantsOwn) return { scope: { kind: 'public' }, statuses: ['ready'] };
  if (viewer?.kind !== 'api-key') {
    throw viewer
      ? errors.forbidden('Only an API key may list its own videos or filter by status')
      : errors.authRequired('`owner=me` and `status` need an API key (Authorization: Bearer <key>)');
  }
  const statuses: VideoStatus[] = input.status ? [input.status] : [...LISTED_STATUSES];
  if (input.owner !== 'me' && viewer.role === 'admin') return { scope: { kind: 'all' }, statuses };
  return { scope: { kind: 'owner', keyId: viewer.keyId }, statuses };
}

function dateOf(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw errors.validation(`${field} must be a date (ISO 8601)`, { field });
  return date;
}

export function planVideoList(input: ListInput, viewer: Viewer): ListPlan {
  const { scope, statuses } = scopeOf(input, viewer);
  const sort = input.sort ?? (input.q === undefined ? 'newest' : 'relevance');
  if (sort === 'relevance' && input.q === undefined) {
    throw errors.validation('sort=relevance needs a search query', { field: 'sort' });
  }
  const tags = input.tags?.length
    ? { values: normalizeTags(input.tags), mode: input.tagMode ?? 'any' }
    : undefined;
  const plan: Omit<ListPlan, 'after' | 'fingerprint'> = {
    q: input.q,
    scope,
    statuses,
    category: input.category,
    tags,
    durationMin: input.durationMin,
    durationMax: input.durationMax,
    uploadedAfter: dateOf(input.uploadedAfter, 'uploadedAfter'),
    uploadedBefore: dateOf(input.uploadedBefore, 'uploadedBefore'),
    sort,
    limit: Math.min(MAX_LIST_LIMIT, input.limit ?? DEFAULT_LIST_LIMIT),
  };
  const fingerprint = fingerprintOf(plan);
  const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor, fingerprint);
  if (after && !(validKey(SORT_SPECS[sort].keyType, after.key) && new RegExp(ID_PATTERN).test(after.id))) {
    throw errors.listCursorInvalid('The cursor is not one this API handed out');
  }
  return { ...plan, after, fingerprint };
}

/** Everything that decides which rows a page holds and in which order, but the starting point. */
function fingerprintOf(plan: Omit<ListPlan, 'after' | 'fingerprint'>): string {
  const { limit: _limit, ...query } = plan;
  return createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 12);
}

/** What the database's text form of each key type looks like: a forged cursor never reaches a cast. */
const CURSOR_KEY_PATTERNS: Record<SortSpec['keyType'], RegExp> = {
  timestamptz: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/,
  float8: /^-?\d+(\.\d+)?(e[+-]?\d+)?$/,
  float4: /^-?\d+(\.\d+)?(e[+-]?\d+)?$/,
  int8: /^-?\d{1,19}$/,
  text: /^[\s\S]{0,1000}$/,
};

/** Whether a cursor key is a value of its type the database accepts (a forged one must never fail there). */
function validKey(type: SortSpec['keyType'], key: string): boolean {
  if (!CURSOR_KEY_PATTERNS[type].test(key)) return false;
  if (type === 'timestamptz') return isRealTimestamp(key);
  if (type === 'int8') return BigInt(key) <= 9223372036854775807n && BigInt(key) >= -9223372036854775808n;
  if (type === 'float8' || type === 'float4')
    return Math.abs(Number(key)) < (type === 'float4' ? 3.4e38 : 1e308);
  return !key.includes('\u0000');
}

/** `2026-12-01 17:00:00.123456+00`, with every field in its range. */
function isRealTimestamp(key: string): boolean {
  const [date, time] = key.split(' ') as [string, string];
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const [hours, minutes, seconds] = time.slice(0, 8).split(':').map(Number) as [number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  return (
    calendar.getUTCFullYear() === year &&
    calendar.getUTCMonth() === month - 1 &&
    calendar.getUTCDate() === day &&
    hours < 24 &&
    minutes < 60 &&
    seconds < 60
  );
}

/** An opaque cursor: the last row's sort key (as the database spelled it) and id, tied to its query. */
export function encodeCursor(fingerprint: string, key: string, id: string): string {
  return Buffer.from(JSON.stringify([fingerprint, key, id])).toString('base64url');
}

export function decodeCursor(cursor: string, fingerprint: string): { key: string; id: string } {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 3 || !parts.every((part) => typeof part === 'string')) {
    throw errors.listCursorInvalid('The cursor is not one this API handed out');
  }
  const [owner, key, id] = parts as [string, string, string];
  if (owner !== fingerprint) {
    throw errors.listCursorInvalid(
      'The cursor belongs to another query (filters or sort changed); start again without it',
    );
  }
  return { key, id };
}
