import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { Db } from '../platform/db/database.ts';
import { encodeCursor, type ListPlan, SORT_SPECS, type SortSpec } from './video-list.ts';
import type { VideoSummary } from './video-repository.ts';

export type ListedVideo = Pick<
  VideoSummary,
  | 'id'
  | 'title'
  | 'description'
  | 'duration_seconds'
  | 'width'
  | 'height'
  | 'visibility'
  | 'status'
  | 'encode_id'
  | 'outputs'
  | 'created_at'
  | 'ready_at'
  | 'views'
  | 'tags'
  | 'category'
>;

const LIST_COLUMNS = [
  'id',
  'title',
  'description',
  'duration_seconds',
  'width',
  'height',
  'visibility',
  'status',
  'encode_id',
  'outputs',
  'created_at',
  'ready_at',
  'views',
  'tags',
  'category',
] as const;

/**
 * One page of a plan: a keyset query on (sort key, id) — `id collate "C"` so ties break the same way on
 * PGlite and PostgreSQL — fetching one row more than the page to know whether another follows. The
 * cursor holds the last row's key as the database spells it (`::text`), so no precision is lost.
 */
export async function listVideos(
  db: Db,
  plan: ListPlan,
  tsquery?: string,
): Promise<{ rows: ListedVideo[]; nextCursor: string | null }> {
  const spec = SORT_SPECS[plan.sort];
  const matched = tsquery === undefined ? undefined : sql`to_tsquery('simple', ${tsquery})`;
  const key = sortKeyOf(spec.column, matched);
  const direction = sql.raw(spec.direction);
  let query = db
    .selectFrom('videos')
    .select([...LIST_COLUMNS, sql<string>`(${key})::text`.as('sort_key')])
    .where('status', 'in', plan.statuses)
    .where((eb) => eb.and(filtersOf(plan)));
  if (matched) query = query.where(sql<SqlBool>`search_vector @@ ${matched}`);
  if (plan.after) {
    const comparison = sql.raw(spec.direction === 'desc' ? '<' : '>');
    const afterKey = sql`${plan.after.key}::${sql.raw(spec.keyType)}`;
    const afterKeyExpr = spec.column === 'title_sort' ? sql`${afterKey} collate "C"` : afterKey;
    query = query.where(
      sql<SqlBool>`(${key}, id collate "C") ${comparison} (${afterKeyExpr}, ${plan.after.id} collate "C")`,
    );
  }
  const found = await query
    .orderBy(sql`${key} ${direction}`)
    .orderBy(sql`id collate "C" ${direction}`)
    .limit(plan.limit + 1)
    .execute();
  const page = found.slice(0, plan.limit);
  const last = page.at(-1);
  const nextCursor =
    found.length > plan.limit && last ? encodeCursor(plan.fingerprint, last.sort_key, last.id) : null;
  return { rows: page.map(({ sort_key: _key, ...row }) => row), nextCursor };
}

/** The expression a sort orders by: a column, the title in byte order, or the search's rank. */
function sortKeyOf(
  column: SortSpec['column'],
  matched: RawBuilder<unknown> | undefined,
): RawBuilder<unknown> {
  if (column === 'title_sort') return sql`title_sort collate "C"`;
  if (column === 'rank') {
    if (!matched) throw new Error('the relevance sort needs a search query');
    return sql`ts_rank(search_vector, ${matched})`;
  }
  return sql`${sql.ref(column)}`;
}

function filtersOf(plan: ListPlan): Expression<SqlBool>[] {
  const filters: Expression<SqlBool>[] = [];
  const { scope } = plan;
  if (scope.kind === 'public') filters.push(sql<SqlBool>`visibility = 'public'`);
  if (scope.kind === 'owner') filters.push(sql<SqlBool>`owner_key_id = ${scope.keyId}`);
  if (plan.category !== undefined) filters.push(sql<SqlBool>`category = ${plan.category}`);
  if (plan.tags) {
    const operator = sql.raw(plan.tags.mode === 'all' ? '@>' : '&&');
    filters.push(sql<SqlBool>`tags ${operator} ${plan.tags.values}::text[]`);
  }
  if (plan.durationMin !== undefined) filters.push(sql<SqlBool>`duration_seconds >= ${plan.durationMin}`);
  if (plan.durationMax !== undefined) filters.push(sql<SqlBool>`duration_seconds <= ${plan.durationMax}`);
  if (plan.uploadedAfter) filters.push(sql<SqlBool>`created_at >= ${plan.uploadedAfter}`);
  if (plan.uploadedBefore) filters.push(sql<SqlBool>`created_at < ${plan.uploadedBefore}`);
  return filters;
}

/**
 * `column` starts with `prefix`, as a byte-order range a `collate "C"` btree index serves (no LIKE, so
 * `%` and `_` are plain characters).
 */
export function startsWith(column: RawBuilder<unknown> | ReturnType<typeof sql.ref>, prefix: string) {
  return sql<SqlBool>`${column} collate "C" >= ${prefix} and ${column} collate "C" < ${`${prefix}\u{10FFFF}`}`;
}

/** The most used tags of the public catalog starting with `prefix` (already normalised), for filters. */
export async function popularTags(
  db: Db,
  prefix: string,
  limit: number,
): Promise<Array<{ tag: string; count: number }>> {
  const result = await sql<{ tag: string; count: number }>`
    select tag, videos as count from tag_counts
    where videos > 0 and ${startsWith(sql.ref('tag'), prefix)}
    order by videos desc, tag collate "C" limit ${limit}`.execute(db);
  return result.rows;
}
