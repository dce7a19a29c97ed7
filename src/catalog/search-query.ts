import { errors } from '../errors.ts';
import { foldText } from './video-fields.ts';

/**
 * A search query, parsed into what PostgreSQL's `to_tsquery('simple', …)` gets. Pure. Websearch syntax:
 * `"a phrase"`, `-excluded`, `or` between terms; the last plain word matches as a prefix. Words are
 * folded like the indexed text (foldText) and cut to letters and digits, so no user character ever
 * reaches tsquery syntax: any input gives a valid query or none.
 */
export const MAX_QUERY_LENGTH = 200;

export type SearchTerm =
  | { kind: 'word'; word: string; prefix: boolean }
  | { kind: 'phrase'; words: string[] }
  | { kind: 'exclude'; word: string };

/** Terms joined by `and` unless an `or` stood between them. */
export interface ParsedQuery {
  terms: SearchTerm[];
  /** `or[i]`: term i+1 is or-ed with term i. */
  or: boolean[];
}

const WORD = /[\p{L}\p{N}]+/gu;

function wordsOf(text: string): string[] {
  return foldText(text).match(WORD) ?? [];
}

export function parseSearchQuery(query: string): ParsedQuery {
  if (query.length > MAX_QUERY_LENGTH) {
    throw errors.searchQueryTooLong(`A search query has at most ${MAX_QUERY_LENGTH} characters`, {
      length: query.length,
    });
  }
  const terms: SearchTerm[] = [];
  const or: boolean[] = [];
  let pendingOr = false;
  const push = (term: SearchTerm) => {
    if (terms.length > 0) or.push(pendingOr);
    pendingOr = false;
    terms.push(term);
  };
  // Phrases ("…", an unclosed one runs to the end), then single tokens.
  for (const match of query.matchAll(/"([^"]*)"?|(\S+)/g)) {
    if (match[1] !== undefined) {
      const words = wordsOf(match[1]);
      if (words.length === 1) push({ kind: 'word', word: words[0]!, prefix: false });
      else if (words.length > 1) push({ kind: 'phrase', words });
      continue;
    }
    const token = match[2]!;
    if (/^or$/i.test(token) && terms.length > 0) {
      pendingOr = true;
      continue;
    }
    const excluded = token.startsWith('-');
    const words = wordsOf(excluded ? token.slice(1) : token);
    for (const word of words)
      push(excluded ? { kind: 'exclude', word } : { kind: 'word', word, prefix: false });
  }
  // The last plain word is still being typed: it matches as a prefix.
  const last = terms.at(-1);
  if (last?.kind === 'word' && /\S$/.test(query) && !query.trimEnd().endsWith('"')) last.prefix = true;
  return { terms, or };
}

/** The words typo tolerance may correct: plain words (not phrases or exclusions) of 5 letters or more. */
export function correctableWords(parsed: ParsedQuery): string[] {
  return parsed.terms.flatMap((term) =>
    term.kind === 'word' && [...term.word].length >= 5 ? [term.word] : [],
  );
}

/** Edits allowed for a word: 0 up to 4 letters, 1 for 5–8, 2 for 9 or more (Meilisearch's rule). */
export function allowedTypos(word: string): number {
  const length = [...word].length;
  return length <= 4 ? 0 : length <= 8 ? 1 : 2;
}

/**
 * The tsquery text, with `corrections` applied (a corrected word matches exactly, not as a prefix).
 * Undefined when nothing searchable is left (only exclusions, or no letters at all).
 */
export function toTsquery(
  parsed: ParsedQuery,
  corrections: ReadonlyMap<string, string> = new Map(),
): string | undefined {
  const parts = parsed.terms.map((term) => {
    if (term.kind === 'phrase') return `(${term.words.join(' <-> ')})`;
    if (term.kind === 'exclude') return `!${term.word}`;
    const corrected = corrections.get(term.word);
    if (corrected) return corrected;
    return term.prefix ? `${term.word}:*` : term.word;
  });
  if (!parsed.terms.some((term) => term.kind !== 'exclude')) return undefined;
  return parts.reduce(
    (query, part, i) => (i === 0 ? part : `${query} ${parsed.or[i - 1] ? '|' : '&'} ${part}`),
    '',
  );
}

/** Every folded word a hit may be highlighted for (prefix words as prefixes). */
export function highlightTerms(parsed: ParsedQuery, corrections: ReadonlyMap<string, string>) {
  return parsed.terms.flatMap((term) => {
    if (term.kind === 'phrase') return term.words.map((word) => ({ word, prefix: false }));
    if (term.kind === 'exclude') return [];
    const corrected = corrections.get(term.word);
    return [{ word: corrected ?? term.word, prefix: !corrected && term.prefix }];
  });
}

/**
 * Edit distance counting a swap of neighbours as one edit (optimal string alignment), as typo-tolerant
 * engines do: "vidoe" is one typo from "video" (plain Levenshtein says two). By code points.
 */
export function typoDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const rows = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[x.length]![y.length]!;
}
