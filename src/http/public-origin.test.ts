import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHostPort, publicBaseUrl } from './public-origin.ts';

const DEFAULTS = ['localhost', '127.0.0.1', '[::1]', 'reel-box'];

describe('publicBaseUrl', () => {
  const cases: Array<
    [
      name: string,
      facts: { configured?: string; protocol: string; host: string },
      allowed: string[],
      expected: string,
    ]
  > = [
    [
      'PUBLIC_BASE_URL wins over anything the request says',
      { configured: 'https://reel.example', protocol: 'javascript', host: 'evil.example' },
      DEFAULTS,
      'https://reel.example',
    ],
    [
      'PUBLIC_BASE_URL wins even with an empty allow-list',
      { configured: 'https://reel.example/base', protocol: 'http', host: 'localhost' },
      [],
      'https://reel.example/base',
    ],
    [
      'an allowed name, any port',
      { protocol: 'http', host: 'localhost:8080' },
      DEFAULTS,
      'http://localhost:8080',
    ],
    ['an allowed name without a port', { protocol: 'http', host: 'localhost' }, DEFAULTS, 'http://localhost'],
    ['the machine name', { protocol: 'http', host: 'reel-box:8080' }, DEFAULTS, 'http://reel-box:8080'],
    [
      'an allowed IPv4 address',
      { protocol: 'http', host: '127.0.0.1:9000' },
      DEFAULTS,
      'http://127.0.0.1:9000',
    ],
    ['an allowed IPv6 address', { protocol: 'http', host: '[::1]:8080' }, DEFAULTS, 'http://[::1]:8080'],
    [
      'names compare case-insensitively (and come out lower-cased)',
      { protocol: 'http', host: 'LocalHost:8080' },
      DEFAULTS,
      'http://localhost:8080',
    ],
    ['https', { protocol: 'https', host: 'localhost' }, DEFAULTS, 'https://localhost'],
    ['HTTPS (scheme case)', { protocol: 'HTTPS', host: 'localhost' }, DEFAULTS, 'https://localhost'],
    ['a host that is not allowed → relative', { protocol: 'http', host: 'evil.example' }, DEFAULTS, ''],
    ['a name that merely ends like an allowed one', { protocol: 'http', host: 'notlocalhost' }, DEFAULTS, ''],
    [
      'a name that merely starts like an allowed one',
      { protocol: 'http', host: 'localhost.evil.example' },
      DEFAULTS,
      '',
    ],
    ['userinfo trick', { protocol: 'http', host: 'localhost@evil.example' }, DEFAULTS, ''],
    ['path trick', { protocol: 'http', host: 'localhost/evil.example' }, DEFAULTS, ''],
    ['fragment trick', { protocol: 'http', host: 'evil.example#localhost' }, DEFAULTS, ''],
    ['two ports', { protocol: 'http', host: 'localhost:80:80' }, DEFAULTS, ''],
    ['a port that is not a number', { protocol: 'http', host: 'localhost:http' }, DEFAULTS, ''],
    ['a port out of range', { protocol: 'http', host: 'localhost:99999' }, DEFAULTS, ''],
    ['no Host header', { protocol: 'http', host: '' }, DEFAULTS, ''],
    ['an empty allow-list', { protocol: 'http', host: 'localhost' }, [], ''],
    [
      'an entry with a port allows that port',
      { protocol: 'https', host: 'reel.example:8443' },
      ['reel.example:8443'],
      'https://reel.example:8443',
    ],
    ['… and no other port', { protocol: 'https', host: 'reel.example:443' }, ['reel.example:8443'], ''],
    ['… nor none', { protocol: 'https', host: 'reel.example' }, ['reel.example:8443'], ''],
    ['a scheme other than http(s) → relative', { protocol: 'javascript', host: 'localhost' }, DEFAULTS, ''],
    ['a scheme with a colon', { protocol: 'https:', host: 'localhost' }, DEFAULTS, ''],
    ['a data: scheme', { protocol: 'data', host: 'localhost' }, DEFAULTS, ''],
    ['no scheme', { protocol: '', host: 'localhost' }, DEFAULTS, ''],
  ];
  for (const [name, facts, allowed, expected] of cases) {
    it(name, () => {
      assert.equal(
        publicBaseUrl({ configured: facts.configured, protocol: facts.protocol, host: facts.host }, allowed),
        expected,
      );
    });
  }
});

describe('parseHostPort', () => {
  const cases: Array<[string, { hostname: string; port: string | undefined } | undefined]> = [
    ['reel.example', { hostname: 'reel.example', port: undefined }],
    ['Reel.Example:8080', { hostname: 'reel.example', port: '8080' }],
    ['127.0.0.1:1', { hostname: '127.0.0.1', port: '1' }],
    ['[::1]', { hostname: '[::1]', port: undefined }],
    ['[FE80::1]:65535', { hostname: '[fe80::1]', port: '65535' }],
    ['my_box', { hostname: 'my_box', port: undefined }],
    ['::1', undefined],
    ['reel.example:0', undefined],
    ['reel.example:080', undefined],
    ['reel.example:65536', undefined],
    ['reel.example:', undefined],
    ['http://reel.example', undefined],
    ['reel.example/', undefined],
    [' reel.example', undefined],
    ['', undefined],
  ];
  for (const [input, expected] of cases) {
    it(JSON.stringify(input), () => assert.deepEqual(parseHostPort(input), expected));
  }
});
