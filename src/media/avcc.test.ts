import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { avcConfig } from './avcc.ts';

describe('avcConfig', () => {
  /** An avcC box: size, type, the record's first 4 bytes, then 0xff (4-byte NAL lengths), no SPS, no PPS. */
  const box = (...head: number[]) =>
    Uint8Array.from([0, 0, 0, 11 + head.length, ...Buffer.from('avcC'), ...head, 0xff, 0xe0, 0]);
  const table: Array<[title: string, bytes: Uint8Array, expected: ReturnType<typeof avcConfig>]> = [
    ['High 3.1', box(1, 100, 0x00, 31), { profile: 'High', levelIdc: 31 }],
    ['Main 4.0', box(1, 77, 0x40, 40), { profile: 'Main', levelIdc: 40 }],
    ['Constrained Baseline 1.3', box(1, 66, 0xc0, 13), { profile: 'Constrained Baseline', levelIdc: 13 }],
    ['Baseline', box(1, 66, 0x80, 30), { profile: 'Baseline', levelIdc: 30 }],
    ['High 10 5.1', box(1, 110, 0x00, 51), { profile: 'High 10', levelIdc: 51 }],
    ['an unknown profile', box(1, 118, 0x00, 31), null],
    ['wrong configuration version', box(0, 100, 0x00, 31), null],
    ['cut short', Uint8Array.from([0, 0, 0, 40, ...Buffer.from('avcC'), 1, 100, 0, 31, 0xff]), null],
    ['no avcC', Uint8Array.from(Buffer.from('....ftypisom....moov')), null],
  ];
  for (const [title, bytes, expected] of table) {
    it(title, () => assert.deepEqual(avcConfig(bytes), expected));
  }
});
