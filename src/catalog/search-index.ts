import { sql } from 'kysely';
import type { DbOrTx } from '../platform/db/database.ts';
import { foldText } from './video-fields.ts';

/** The folded columns search and sorting read (the tsvector is generated from them by the database). */
export function searchColumns(video: { title: string; tags: readonly string[]; description: string }) {
  return {
    title_sort: foldText(video.title),
    search_tags: foldText(video.tags.join(' ')),
    search_description: foldText(video.description),
  };
}

/** The folded words of a title and tags, as the typo dictionary holds them. */
export function dictionaryWords(title: string | undefined, tags: readonly string[] | undefined): string[] {
  const text = foldText(`${title ?? ''} ${(tags ?? []).join(' ')}`);
  return [...new Set(text.match(/[\p{L}\p{N}]+/gu) ?? [])];
}

/**
 * Adds a title's and tags' words to the typo dictionary. Words are never removed: a stale word can only
 * turn a misspelling into a word with no hits, which the search then reports as no results.
 */
export async function addSearchWords(
  db: DbOrTx,
  title: string | undefined,
  tags: readonly string[] | undefined,
): Promise<void> {
  const words = dictionaryWords(title, tags);
  if (words.length === 0) return;
  await sql`insert into search_words (word) select unnest(${words}::text[]) on conflict do nothing`.execute(
    db,
  );
}
