import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './support/harness.ts';
import { chunkOf, createSession, makeVideoOfSize, putChunk } from './support/uploads.ts';
import { insertVideo } from './support/videos.ts';

const chunkSize = 256 * 1024;

describe('API keys and upload tokens', () => {
  let t: TestApp;
  let file: Buffer;
  before(async () => {
    t = await startTestApp();
    file = await makeVideoOfSize(t.dir, chunkSize + 500);
  });
  after(() => t.close());

  const newUpload = { filename: 'a.mp4', size: 1000, contentType: 'video/mp4' };

  it('mutating endpoints need a key: none → 401 AUTH_REQUIRED, bad → 401 AUTH_INVALID', async () => {
    const none = await t.request({ method: 'POST', url: '/api/v1/uploads', json: newUpload, auth: null });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().error.code, 'AUTH_REQUIRED');
    const bad = await t.request({
      method: 'POST',
      url: '/api/v1/uploads',
      json: newUpload,
      auth: 'reel_nope',
    });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.json().error.code, 'AUTH_INVALID');
    const tokenless = await t.request({ method: 'POST', url: '/api/v1/upload-tokens', auth: null });
    assert.equal(tokenless.json().error.code, 'AUTH_REQUIRED');
  });

  it('a revoked key stops working', async () => {
    const { key, secret } = await t.app.auth.apiKeys.create('temporary');
    assert.equal(
      (await t.request({ method: 'POST', url: '/api/v1/uploads', json: newUpload, auth: secret })).statusCode,
      201,
    );
    await t.app.auth.apiKeys.revoke(key.id);
    const after = await t.request({ method: 'POST', url: '/api/v1/uploads', json: newUpload, auth: secret });
    assert.equal(after.json().error.code, 'AUTH_INVALID');
  });

  it('only the hash of a key is stored', async () => {
    const rows = await t.app.database.db.selectFrom('api_keys').select('hash').execute();
    assert.ok(rows.every((row) => /^[0-9a-f]{64}$/.test(row.hash) && row.hash !== t.apiKey));
  });

  it('an upload token creates and fills exactly one session', async () => {
    const issued = await t.request({ method: 'POST', url: '/api/v1/upload-tokens' });
    assert.equal(issued.statusCode, 201);
    const { token, expiresAt } = issued.json();
    assert.ok(new Date(expiresAt).getTime() > Date.now());

    const session = await createSession(t, file, { chunkSize }, token);
    assert.equal(
      (await putChunk(t, session.id, 0, chunkOf(file, chunkSize, 0), { auth: token })).statusCode,
      200,
    );
    const status = await t.request({ method: 'GET', url: `/api/v1/uploads/${session.id}`, auth: token });
    assert.equal(status.json().receivedChunks, 1);

    const second = await t.request({ method: 'POST', url: '/api/v1/uploads', json: newUpload, auth: token });
    assert.equal(second.statusCode, 403);
    assert.equal(second.json().error.code, 'UPLOAD_TOKEN_ALREADY_USED');

    const other = await createSession(t, file, { chunkSize });
    const foreign = await putChunk(t, other.id, 0, chunkOf(file, chunkSize, 0), { auth: token });
    assert.equal(foreign.statusCode, 403);
    assert.equal(foreign.json().error.code, 'FORBIDDEN');

    const escalate = await t.request({ method: 'POST', url: '/api/v1/upload-tokens', auth: token });
    assert.equal(escalate.statusCode, 403);

    await putChunk(t, session.id, 1, chunkOf(file, chunkSize, 1), { auth: token });
    const complete = await t.request({
      method: 'POST',
      url: `/api/v1/uploads/${session.id}/complete`,
      json: {},
      auth: token,
    });
    assert.equal(complete.statusCode, 202, complete.body);
  });

  it('two sessions racing on one token: exactly one wins', async () => {
    const { token } = (await t.request({ method: 'POST', url: '/api/v1/upload-tokens' })).json();
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        t.request({ method: 'POST', url: '/api/v1/uploads', json: newUpload, auth: token }),
      ),
    );
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [201, 403, 403]);
  });

  it('an expired upload token is refused', async () => {
    const { token } = (await t.request({ method: 'POST', url: '/api/v1/upload-tokens' })).json();
    await t.app.database.db
      .updateTable('upload_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .execute();
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/uploads',
      json: newUpload,
      auth: token,
    });
    assert.equal(response.statusCode, 401);
    assert.equal(response.json().error.code, 'AUTH_INVALID');
  });
});

const rateLimitStores: Array<[string, Record<string, string>]> = [['in-process', {}]];
if (process.env.TEST_REDIS_URL) rateLimitStores.push(['Redis', { REDIS_URL: process.env.TEST_REDIS_URL }]);
else console.log('# TEST_REDIS_URL not set: the Redis run of the rate-limit test is not part of this run');

for (const [storeName, storeEnv] of rateLimitStores) {
  describe(`rate limiting on upload endpoints (${storeName} store)`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp({ env: { RATE_LIMIT_UPLOADS_PER_MINUTE: '2', ...storeEnv } });
    });
    after(() => t.close());

    it('answers 429 RATE_LIMITED with Retry-After once the limit is reached', async () => {
      const body = { filename: 'a.mp4', size: 1000, contentType: 'video/mp4' };
      const statuses = [];
      let last: Awaited<ReturnType<TestApp['request']>> | undefined;
      for (let i = 0; i < 3; i++) {
        last = await t.request({ method: 'POST', url: '/api/v1/uploads', json: body });
        statuses.push(last.statusCode);
      }
      assert.deepEqual(statuses, [201, 201, 429]);
      assert.equal(last!.json().error.code, 'RATE_LIMITED');
      const retryAfter = Number(last!.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    });
  });
}

describe('service endpoints', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('healthz, readyz, OpenAPI docs, metrics', async () => {
    assert.equal((await t.request({ method: 'GET', url: '/healthz', auth: null })).statusCode, 200);
    const ready = await t.request({ method: 'GET', url: '/readyz', auth: null });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ok', database: 'ok', storage: 'ok' });
    const spec = await t.request({ method: 'GET', url: '/docs/json', auth: null });
    assert.equal(spec.statusCode, 200);
    const paths = Object.keys(spec.json().paths);
    for (const route of [
      '/api/v1/uploads',
      '/api/v1/uploads/{id}/chunks/{index}',
      '/api/v1/uploads/{id}/complete',
    ]) {
      assert.ok(paths.includes(route), `${route} documented`);
    }
    const metrics = await t.request({ method: 'GET', url: '/metrics', auth: null });
    assert.match(metrics.body, /process_cpu_user_seconds_total/);
  });

  it('unknown routes → 404 NOT_FOUND in the error shape', async () => {
    const response = await t.request({ method: 'GET', url: '/api/v1/nothing', auth: null });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error.code, 'NOT_FOUND');
  });

  it('a deleted private video is not revealed: 404 without a key, 410 with one', async () => {
    await insertVideo(t, 'privatedel01', { visibility: 'private' });
    assert.equal(
      (await t.request({ method: 'GET', url: '/api/v1/videos/privatedel01', auth: null })).statusCode,
      404,
    );
    assert.equal((await t.request({ method: 'GET', url: '/api/v1/videos/privatedel01' })).statusCode, 200);
    await t.app.catalog.videos.markDeleted('privatedel01');
    const anonymous = await t.request({ method: 'GET', url: '/api/v1/videos/privatedel01', auth: null });
    assert.equal(anonymous.statusCode, 404);
    assert.equal(anonymous.json().error.code, 'VIDEO_NOT_FOUND');
    const owner = await t.request({ method: 'GET', url: '/api/v1/videos/privatedel01' });
    assert.equal(owner.statusCode, 410);
    assert.equal(owner.json().error.code, 'VIDEO_DELETED');
  });

  it('unknown videos → 404 VIDEO_NOT_FOUND', async () => {
    const response = await t.request({ method: 'GET', url: '/api/v1/videos/AAAAAAAAAAAA', auth: null });
    assert.equal(response.json().error.code, 'VIDEO_NOT_FOUND');
  });
});
