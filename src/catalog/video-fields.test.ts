import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { codeOf } from '../../test/support/errors.ts';
import { canonicalLanguage, checkCategory, editedColumns, foldText, normalizeTags } from './video-fields.ts';

describe('normalizeTags', () => {
  test('trims, NFC-normalises, lower-cases and de-duplicates in first-seen order', () => {
    assert.deepEqual(normalizeTags(['  Rock ', 'rock', 'E\u0301TE\u0301', 'été', 'Jazz']), [
      'rock',
      'été',
      'jazz',
    ]);
  });
  test('limits: 20 tags of 1–40 characters (counted as characters, not UTF-16 units)', () => {
    assert.equal(normalizeTags(Array.from({ length: 20 }, (_, i) => `t${i}`)).length, 20);
    assert.equal(
      codeOf(() => normalizeTags(Array.from({ length: 21 }, (_, i) => `t${i}`))),
      'VIDEO_TAGS_INVALID',
    );
    assert.deepEqual(normalizeTags(['a'.repeat(40)]), ['a'.repeat(40)]);
    assert.equal(
      codeOf(() => normalizeTags(['a'.repeat(41)])),
      'VIDEO_TAGS_INVALID',
    );
    assert.deepEqual(normalizeTags(['🎸'.repeat(40)]), ['🎸'.repeat(40)]);
    assert.equal(
      codeOf(() => normalizeTags(['   '])),
      'VIDEO_TAGS_INVALID',
    );
  });
  test('duplicates do not count against the limit', () => {
    assert.deepEqual(normalizeTags(Array.from({ length: 30 }, () => 'Same')), ['same']);
  });
});

describe('categories and languages', () => {
  test('a known category passes, an unknown one is refused', () => {
    assert.equal(checkCategory('music'), 'music');
    assert.equal(
      codeOf(() => checkCategory('Music')),
      'VIDEO_CATEGORY_UNKNOWN',
    );
    assert.equal(
      codeOf(() => checkCategory('')),
      'VIDEO_CATEGORY_UNKNOWN',
    );
  });
  const languages: Array<[string, string]> = [
    ['en', 'en'],
    ['en-us', 'en-US'],
    ['PT-br', 'pt-BR'],
    ['zh-hant-tw', 'zh-Hant-TW'],
  ];
  for (const [given, canonical] of languages) {
    test(`${given} → ${canonical}`, () => assert.equal(canonicalLanguage(given), canonical));
  }
  for (const bad of ['en_US', 'x', '', 'english!', 'en--us']) {
    test(`"${bad}" is refused`, () =>
      assert.equal(
        codeOf(() => canonicalLanguage(bad)),
        'VIDEO_LANGUAGE_INVALID',
      ));
  }
});

describe('foldText', () => {
  const table: Array<[string, string]> = [
    ['Café', 'cafe'],
    ['ÉCLAIR', 'eclair'],
    ['Straße', 'straße'],
    ['ﬁle', 'file'],
    ['Ｆｕｌｌ', 'full'],
  ];
  for (const [text, folded] of table) test(`${text} → ${folded}`, () => assert.equal(foldText(text), folded));
});

describe('editedColumns', () => {
  test('only the fields sent; the title brings its folded sort key', () => {
    assert.deepEqual(editedColumns({ title: 'Éclair' }), { title: 'Éclair', title_sort: 'eclair' });
    assert.deepEqual(editedColumns({ category: null, language: 'en-gb' }), {
      category: null,
      language: 'en-GB',
    });
    assert.deepEqual(editedColumns({}), {});
  });
  test('a bad field throws before anything is returned', () => {
    assert.equal(
      codeOf(() => editedColumns({ title: 'ok', category: 'nope' })),
      'VIDEO_CATEGORY_UNKNOWN',
    );
  });
});
