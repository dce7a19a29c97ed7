import { foldText } from './video-fields.ts';

/** Where a hit's text matched: UTF-16 offsets into the original text, end exclusive. */
export interface Highlight {
  start: number;
  end: number;
}

/**
 * The words of `text` that match `terms` (compared folded, a prefix term by its start), as offsets in
 * the original text — offsets, never markup, so a client marks them up itself and escapes the rest.
 * Pure: folding is done per character so each folded word maps back onto the characters it came from.
 */
export function highlightRanges(
  text: string,
  terms: ReadonlyArray<{ word: string; prefix: boolean }>,
  maxRanges = 20,
): Highlight[] {
  if (terms.length === 0 || text.length === 0) return [];
  let folded = '';
  const origin: number[] = []; // folded index → offset of the original character it came from
  let offset = 0;
  for (const char of text) {
    const piece = foldText(char);
    for (let i = 0; i < piece.length; i++) origin.push(offset);
    folded += piece;
    offset += char.length;
  }
  origin.push(text.length);
  const ranges: Highlight[] = [];
  for (const match of folded.matchAll(/[\p{L}\p{N}]+/gu)) {
    const word = match[0];
    if (!terms.some((term) => (term.prefix ? word.startsWith(term.word) : word === term.word))) continue;
    // Up to the next character that folds to something: marks that folded away stay in the range.
    ranges.push({ start: origin[match.index]!, end: origin[match.index + word.length]! });
    if (ranges.length >= maxRanges) break;
  }
  return ranges;
}
