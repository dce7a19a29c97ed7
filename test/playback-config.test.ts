import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

const S3 = { S3_BUCKET: 'media', S3_ENDPOINT: 'http://127.0.0.1:9000' };

describe('delivery configuration', () => {
  it('defaults: CORS *, stream, no CDN, 6 h signed URLs, secret from the database', () => {
    assert.deepEqual(loadConfig({}).delivery, {
      corsOrigins: '*',
      mode: 'stream',
      publicMediaBaseUrl: undefined,
      signedUrlTtlSeconds: 21_600,
      signingSecret: undefined,
    });
  });

  it('reads every setting', () => {
    const delivery = loadConfig({
      ...S3,
      CORS_ORIGINS: 'https://a.example, http://localhost:5173/',
      MEDIA_DELIVERY: 'redirect',
      PUBLIC_MEDIA_BASE_URL: 'https://cdn.example/media/',
      SIGNED_URL_TTL_SECONDS: '600',
      SIGNING_SECRET: 's'.repeat(32),
    }).delivery;
    assert.deepEqual(delivery, {
      corsOrigins: ['https://a.example', 'http://localhost:5173'],
      mode: 'redirect',
      publicMediaBaseUrl: 'https://cdn.example/media',
      signedUrlTtlSeconds: 600,
      signingSecret: 's'.repeat(32),
    });
  });

  it('redirect mode needs somewhere to redirect to', () => {
    assert.throws(() => loadConfig({ MEDIA_DELIVERY: 'redirect' }), ConfigError);
    assert.equal(loadConfig({ MEDIA_DELIVERY: 'redirect', ...S3 }).delivery.mode, 'redirect');
    const cdn = loadConfig({ MEDIA_DELIVERY: 'redirect', PUBLIC_MEDIA_BASE_URL: 'https://cdn.example' });
    assert.equal(cdn.delivery.publicMediaBaseUrl, 'https://cdn.example');
  });

  it('refuses bad values with a message naming the variable', () => {
    const cases: Array<Record<string, string>> = [
      { MEDIA_DELIVERY: 'proxy' },
      { CORS_ORIGINS: 'a.example' },
      { CORS_ORIGINS: 'https://a.example/path' },
      { PUBLIC_MEDIA_BASE_URL: 'cdn.example' },
      { SIGNED_URL_TTL_SECONDS: '10' },
      { SIGNING_SECRET: 'short' },
    ];
    for (const env of cases) {
      const name = Object.keys(env)[0]!;
      assert.throws(
        () => loadConfig(env),
        (error: Error) => error instanceof ConfigError && error.message.includes(name),
        name,
      );
    }
  });
});
