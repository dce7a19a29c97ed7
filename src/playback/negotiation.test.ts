import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseEncoding, ifRangeAllows, noneMatchHits } from './negotiation.ts';

describe('noneMatchHits', () => {
  const tags = ['"abc"', '"abc-gzip"', '"abc-br"'];
  const cases: Array<[string | undefined, boolean]> = [
    [undefined, false],
    ['', false],
    ['"abc"', true],
    ['"abc-br"', true],
    ['W/"abc"', true], // weak comparison
    ['"x", "abc-gzip"', true],
    ['"x","y"', false],
    ['"ab"', false],
    ['*', true],
    ['abc', false], // unquoted: not an entity tag
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} → ${expected}`, () => assert.equal(noneMatchHits(header, tags), expected));
  }
});

describe('ifRangeAllows', () => {
  const modified = new Date('2026-01-02T03:04:05Z');
  const cases: Array<[string | undefined, boolean, string]> = [
    [undefined, true, 'no If-Range'],
    ['"e1"', true, 'the same strong tag'],
    ['"e2"', false, 'another tag'],
    ['W/"e1"', false, 'a weak tag never matches'],
    ['Fri, 02 Jan 2026 03:04:05 GMT', true, 'the exact Last-Modified'],
    ['Fri, 02 Jan 2026 03:04:06 GMT', false, 'another date'],
    ['yesterday', false, 'not a date'],
  ];
  for (const [header, expected, name] of cases) {
    it(name, () => assert.equal(ifRangeAllows(header, '"e1"', modified), expected));
  }
  it('a date cannot match a resource without Last-Modified', () => {
    assert.equal(ifRangeAllows('Fri, 02 Jan 2026 03:04:05 GMT', '"e1"', undefined), false);
  });
});

describe('chooseEncoding', () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'identity'],
    ['', 'identity'],
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip;q=1.0, br;q=0.5', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=0, br;q=0', 'identity'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['identity', 'identity'],
    ['deflate', 'identity'],
    ['x-gzip', 'gzip'],
    ['GZIP', 'gzip'],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} → ${expected}`, () => assert.equal(chooseEncoding(header), expected));
  }
});
