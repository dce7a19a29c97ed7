import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheControl } from './cache-policy.ts';

describe('cacheControl', () => {
  const now = 1_000_000;
  const cases: Array<[Parameters<typeof cacheControl>[0], string, string]> = [
    [{ text: false, final: true, nowSeconds: now }, 'public, max-age=31536000, immutable', 'segment'],
    [
      { text: false, final: false, nowSeconds: now },
      'public, max-age=31536000, immutable',
      'segment, encoding',
    ],
    [{ text: true, final: false, nowSeconds: now }, 'public, max-age=2', 'EVENT playlist'],
    [{ text: true, final: true, nowSeconds: now }, 'public, max-age=300', 'VOD playlist'],
    [
      { text: false, final: true, nowSeconds: now, expiresAt: now + 3600 },
      'public, max-age=3600, immutable',
      'signed segment: until the expiry',
    ],
    [
      { text: true, final: true, nowSeconds: now, expiresAt: now + 100 },
      'public, max-age=100',
      'signed VOD playlist expiring sooner than 300 s',
    ],
    [
      { text: true, final: true, nowSeconds: now, expiresAt: now + 86_400 },
      'public, max-age=300',
      'signed VOD playlist expiring later',
    ],
    [
      { text: false, final: true, nowSeconds: now, expiresAt: now - 5 },
      'public, max-age=0, immutable',
      'never negative',
    ],
  ];
  for (const [input, expected, name] of cases) {
    it(name, () => assert.equal(cacheControl(input), expected));
  }
});
