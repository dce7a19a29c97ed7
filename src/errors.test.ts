import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AppError, ERROR_CATALOGUE, errors } from './errors.ts';
import { toAppError } from './http/error-handler.ts';

describe('error catalogue', () => {
  test('every constructor makes a catalogued code with the catalogue’s status and nature', () => {
    for (const [name, make] of Object.entries(errors)) {
      const error = (make as (...args: unknown[]) => AppError)(3, 'message');
      const entry = ERROR_CATALOGUE[error.code];
      assert.ok(entry, `${name} → ${error.code}`);
      assert.equal(error.httpStatus, entry.status, name);
      assert.equal(error.permanent, entry.permanent, name);
    }
  });

  test('codes are upper snake case and statuses are HTTP errors', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      assert.ok(entry.status >= 400 && entry.status < 600, code);
    }
  });

  test('bad media and bad input are permanent; conflicts, limits and outages are not', () => {
    assert.equal(errors.mediaUnreadable('x').permanent, true);
    assert.equal(errors.uploadFileDigestMismatch('x').permanent, true);
    assert.equal(errors.validation('x').permanent, true);
    assert.equal(errors.uploadIncomplete('x').permanent, false);
    assert.equal(errors.uploadNotActive('x').permanent, false);
    assert.equal(errors.rateLimited(1).permanent, false);
    assert.equal(errors.internal('x').permanent, false);
  });

  test('retryable errors carry Retry-After', () => {
    const error = errors.uploadChunkInProgress(7, 'busy');
    assert.deepEqual(error.headers, { 'retry-after': '7' });
    assert.equal(error.details?.retryAfterSeconds, 7);
  });
});

describe('toAppError', () => {
  const fastifyError = (statusCode: number, code: string) =>
    Object.assign(new Error('from fastify'), { statusCode, code });

  test('Fastify’s own client errors map to catalogued codes', () => {
    assert.equal(
      toAppError(fastifyError(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE')).code,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    assert.equal(toAppError(fastifyError(413, 'FST_ERR_CTP_BODY_TOO_LARGE')).code, 'PAYLOAD_TOO_LARGE');
    const bad = toAppError(fastifyError(400, 'FST_ERR_CTP_EMPTY_JSON_BODY'));
    assert.equal(bad.code, 'BAD_REQUEST');
    assert.deepEqual(bad.details, { cause: 'FST_ERR_CTP_EMPTY_JSON_BODY' });
  });

  test('anything else is an internal error that reveals nothing', () => {
    const error = toAppError(new Error('connection refused to 10.0.0.5'));
    assert.equal(error.code, 'INTERNAL_ERROR');
    assert.doesNotMatch(error.message, /10\.0\.0\.5/);
  });

  test('an AppError passes through unchanged', () => {
    const original = errors.videoBusy('busy');
    assert.equal(toAppError(original), original);
  });
});
