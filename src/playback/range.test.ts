import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentRange, parseRange, type RangeResult } from './range.ts';

const full: RangeResult = { kind: 'full' };
const unsatisfiable: RangeResult = { kind: 'unsatisfiable' };
const part = (start: number, end: number): RangeResult => ({ kind: 'partial', start, end });

describe('parseRange (size 1000)', () => {
  const cases: Array<[string | undefined, RangeResult, string]> = [
    [undefined, full, 'no header'],
    ['bytes=0-99', part(0, 99), 'first 100 bytes'],
    ['bytes=100-199', part(100, 199), 'a middle range'],
    ['bytes=999-999', part(999, 999), 'the last byte'],
    ['bytes=0-0', part(0, 0), 'the first byte'],
    ['bytes=500-', part(500, 999), 'open-ended'],
    ['bytes=0-', part(0, 999), 'open-ended from 0'],
    ['bytes=-100', part(900, 999), 'suffix: the last 100 bytes'],
    ['bytes=-1000', part(0, 999), 'suffix of exactly the size'],
    ['bytes=-5000', part(0, 999), 'suffix longer than the file: the whole file'],
    ['bytes=900-5000', part(900, 999), 'end beyond the end: clamped'],
    ['bytes=0-99999999999999999999', part(0, 999), 'end beyond 2^53: clamped'],
    ['bytes=1000-', unsatisfiable, 'start at the size'],
    ['bytes=1000-1999', unsatisfiable, 'start beyond the end'],
    ['bytes=-0', unsatisfiable, 'empty suffix'],
    ['bytes=0-99,200-299', full, 'two ranges: whole file (documented choice)'],
    ['bytes=0-99, 50-150', full, 'overlapping ranges: whole file'],
    ['bytes=0-99,', part(0, 99), 'a trailing empty list element is ignored'],
    ['Bytes = 10-19', part(10, 19), 'unit is case-insensitive, whitespace allowed'],
    ['bytes= 10-19 ', part(10, 19), 'whitespace around the range'],
    ['items=0-9', full, 'another unit: ignored'],
    ['bytes=abc', full, 'malformed: ignored'],
    ['bytes=', full, 'empty set: ignored'],
    ['bytes=20-10', full, 'last < first: invalid, ignored'],
    ['bytes=-', full, 'no numbers: ignored'],
    ['bytes=1.5-2', full, 'not integers: ignored'],
    ['bytes=--5', full, 'negative: ignored'],
  ];
  for (const [header, expected, name] of cases) {
    it(`${name}: ${JSON.stringify(header)}`, () => assert.deepEqual(parseRange(header, 1000), expected));
  }
});

describe('parseRange of an empty file', () => {
  it('any range is unsatisfiable; no range is the (empty) whole', () => {
    assert.deepEqual(parseRange('bytes=0-', 0), unsatisfiable);
    assert.deepEqual(parseRange('bytes=-10', 0), unsatisfiable);
    assert.deepEqual(parseRange(undefined, 0), full);
  });
});

describe('contentRange', () => {
  it('formats an inclusive range and the size', () => {
    assert.equal(contentRange(0, 99, 1000), 'bytes 0-99/1000');
  });
});
