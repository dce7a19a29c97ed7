import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../errors.ts';
import { highlightRanges } from './search-highlight.ts';
import { allowedTypos, correctableWords, parseSearchQuery, toTsquery, typoDistance } from './search-query.ts';

const tsquery = (query: string, corrections: Record<string, string> = {}) =>
  toTsquery(parseSearchQuery(query), new Map(Object.entries(corrections)));

describe('search query → tsquery', () => {
  const table: Array<[string, string | undefined]> = [
    ['kub', 'kub:*'],
    ['kubernetes ', 'kubernetes'],
    ['Café crème', 'cafe & creme:*'],
    ['"open source" video', '(open <-> source) & video:*'],
    ['"open source"', '(open <-> source)'],
    ['cats or dogs', 'cats | dogs:*'],
    ['cats -dogs', 'cats & !dogs'],
    ['-dogs', undefined],
    ['or', 'or:*'],
    ['', undefined],
    ['   ', undefined],
    ['"unclosed phrase here', '(unclosed <-> phrase <-> here)'],
    ["&|!:*()'\\", undefined],
    ["robert'); drop table videos;--", 'robert & drop & table & videos:*'],
    ['a:*b', 'a & b:*'],
    ['c++ & rust!', 'c & rust:*'],
    ['-', undefined],
    ['"" x', 'x:*'],
    ['Ｆｕｌｌ width', 'full & width:*'],
  ];
  for (const [query, expected] of table)
    test(JSON.stringify(query), () => assert.equal(tsquery(query), expected));

  test('a corrected word matches exactly, in place of what was typed', () => {
    assert.equal(tsquery('vidoe tutorial', { vidoe: 'video' }), 'video & tutorial:*');
    assert.equal(tsquery('learn kubernets', { kubernets: 'kubernetes' }), 'learn & kubernetes');
  });

  test('over 200 characters: SEARCH_QUERY_TOO_LONG', () => {
    assert.doesNotThrow(() => parseSearchQuery('a'.repeat(200)));
    assert.throws(
      () => parseSearchQuery('a'.repeat(201)),
      (error: unknown) => error instanceof AppError && error.code === 'SEARCH_QUERY_TOO_LONG',
    );
  });
});

describe('typo tolerance rules', () => {
  test('0 typos up to 4 letters, 1 for 5–8, 2 for 9+', () => {
    assert.deepEqual(['cat', 'vido', 'vidoe', 'tutorial', 'kubernets'].map(allowedTypos), [0, 0, 1, 1, 2]);
  });
  test('only plain words of 5+ letters are corrected (not phrases, not exclusions)', () => {
    assert.deepEqual(correctableWords(parseSearchQuery('vidoe "quick tutorial" -spamm cat')), ['vidoe']);
  });
});

describe('highlights', () => {
  test('offsets into the original text, matched folded, prefixes by their start', () => {
    const text = 'Café culture: the CAFÉS of Paris';
    const ranges = highlightRanges(text, [{ word: 'cafe', prefix: true }]);
    assert.deepEqual(
      ranges.map((r) => text.slice(r.start, r.end)),
      ['Café', 'CAFÉS'],
    );
  });
  test('decomposed accents and astral characters keep their offsets', () => {
    const text = 'Cafe\u0301 🎸 guitar';
    const ranges = highlightRanges(text, [
      { word: 'cafe', prefix: false },
      { word: 'guitar', prefix: false },
    ]);
    assert.deepEqual(
      ranges.map((r) => text.slice(r.start, r.end)),
      ['Cafe\u0301', 'guitar'],
    );
  });
  test('markup in the text is just text', () => {
    const text = '<b>video</b>';
    assert.deepEqual(highlightRanges(text, [{ word: 'video', prefix: false }]), [{ start: 3, end: 8 }]);
  });
});

describe('typoDistance', () => {
  const table: Array<[string, string, number]> = [
    ['vidoe', 'video', 1],
    ['video', 'video', 0],
    ['kubernets', 'kubernetes', 1],
    ['kuberentes', 'kubernetes', 1],
    ['kubrentes', 'kubernetes', 2],
    ['cafe', 'café', 1],
    ['', 'abc', 3],
    ['ab', 'ba', 1],
  ];
  for (const [a, b, distance] of table)
    test(`${a} ~ ${b}: ${distance}`, () => assert.equal(typoDistance(a, b), distance));
});
