import { sql } from 'kysely';
import type { Db } from '../platform/db/database.ts';
import { type Highlight, highlightRanges } from './search-highlight.ts';
import {
  allowedTypos,
  highlightTerms,
  type ParsedQuery,
  parseSearchQuery,
  toTsquery,
  typoDistance,
} from './search-query.ts';
import { foldText } from './video-fields.ts';
import type { ListPlan } from './video-list.ts';
import { type ListedVideo, listVideos, popularTags, startsWith } from './video-list-query.ts';

export interface SearchHit extends ListedVideo {
  highlights: { title: Highlight[]; description: { snippet: string; ranges: Highlight[] } };
}

export interface SearchPage {
  rows: SearchHit[];
  nextCursor: string | null;
  /** The words typo tolerance replaced, for a "did you mean". */
  corrections: Array<{ from: string; to: string }>;
}

const SNIPPET_CHARS = 160;

/**
 * One page of search hits for a plan with a query (video-list.ts: planVideoList): the list's filters
 * and pages, ranked by relevance unless sorted otherwise.
 */
export async function searchVideos(db: Db, plan: ListPlan): Promise<SearchPage> {
  const parsed = parseSearchQuery(plan.q ?? '');
  const corrections = await correctionsFor(db, parsed);
  const tsquery = toTsquery(parsed, corrections);
  const corrected = [...corrections].map(([from, to]) => ({ from, to }));
  if (tsquery === undefined) return { rows: [], nextCursor: null, corrections: corrected };
  const page = await listVideos(db, plan, tsquery);
  const terms = highlightTerms(parsed, corrections);
  const rows = page.rows.map((row) => ({
    ...row,
    highlights: { title: highlightRanges(row.title, terms), description: snippetOf(row.description, terms) },
  }));
  return { rows, nextCursor: page.nextCursor, corrections: corrected };
}

/** Up to SNIPPET_CHARS of the description around its first match, with the matches in it. */
function snippetOf(description: string, terms: ReturnType<typeof highlightTerms>) {
  const all = highlightRanges(description, terms, 50);
  const from = Math.max(0, (all[0]?.start ?? 0) - 40);
  const snippet = description.slice(from, from + SNIPPET_CHARS);
  const ranges = all
    .filter((range) => range.start >= from && range.end <= from + snippet.length)
    .map((range) => ({ start: range.start - from, end: range.end - from }));
  return { snippet, ranges };
}

/**
 * Typo tolerance: each plain word of 5+ letters that no title or tag word is (or, for the word being
 * typed, starts with) is replaced by the closest dictionary word within its allowed edits. Trigram
 * candidates come from the GIN index (`%`), the edit distance decides (`levenshtein_less_equal`).
 */
async function correctionsFor(db: Db, parsed: ParsedQuery): Promise<Map<string, string>> {
  const corrections = new Map<string, string>();
  for (const term of parsed.terms) {
    if (term.kind !== 'word' || allowedTypos(term.word) === 0 || corrections.has(term.word)) continue;
    if (await isKnown(db, term.word, term.prefix)) continue;
    const closest = await closestWord(db, term.word, allowedTypos(term.word));
    if (closest) corrections.set(term.word, closest);
  }
  return corrections;
}

async function isKnown(db: Db, word: string, prefix: boolean): Promise<boolean> {
  const found = prefix
    ? await sql`select 1 from search_words where word like ${`${escapeLike(word)}%`} limit 1`.execute(db)
    : await sql`select 1 from search_words where word = ${word}`.execute(db);
  return found.rows.length > 0;
}

async function closestWord(db: Db, word: string, maxEdits: number): Promise<string | undefined> {
  return db.transaction().execute(async (tx) => {
    // One typo in a short word leaves few trigrams in common: the default threshold (0.3) misses "vidoe".
    await sql`set local pg_trgm.similarity_threshold = 0.2`.execute(tx);
    // Levenshtein counts a swap of neighbours as two edits: fetch within one more, then count swaps as one.
    const candidates = await sql<{ word: string }>`
      select word from search_words
      where word % ${word} and levenshtein_less_equal(word, ${word}, ${maxEdits + 1}) <= ${maxEdits + 1}
      order by similarity(word, ${word}) desc, word collate "C"
      limit 20`.execute(tx);
    const scored = candidates.rows
      .map((row, rank) => ({ word: row.word, distance: typoDistance(row.word, word), rank }))
      .filter((candidate) => candidate.distance <= maxEdits)
      .sort((a, b) => a.distance - b.distance || a.rank - b.rank);
    return scored[0]?.word;
  });
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export interface Suggestion {
  kind: 'title' | 'tag';
  text: string;
  /** The video a title suggestion names. */
  videoId?: string;
}

/** Type-ahead: titles of public videos starting with the folded prefix (index range scan), then tags. */
export async function suggest(db: Db, prefix: string, limit = 8): Promise<Suggestion[]> {
  const folded = foldText(prefix).trim();
  if (folded === '') return [];
  const titles = await sql<{ id: string; title: string }>`
    select id, title from videos
    where status = 'ready' and visibility = 'public'
      and ${startsWith(sql.ref('title_sort'), folded)}
    order by title_sort collate "C", id collate "C" limit ${limit}`.execute(db);
  const tags = await popularTags(db, folded, limit);
  const suggestions: Suggestion[] = titles.rows
    .slice(0, limit - Math.min(3, tags.length))
    .map((row) => ({ kind: 'title', text: row.title, videoId: row.id }));
  for (const { tag } of tags) if (suggestions.length < limit) suggestions.push({ kind: 'tag', text: tag });
  return suggestions;
}
