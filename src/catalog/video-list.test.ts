import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { codeOf } from '../../test/support/errors.ts';
import type { Viewer } from '../auth/policy.ts';
import { decodeCursor, encodeCursor, type ListInput, planVideoList } from './video-list.ts';

const admin: Viewer = { kind: 'api-key', keyId: 'admin', role: 'admin' };
const member: Viewer = { kind: 'api-key', keyId: 'member', role: 'member' };
const token: Viewer = {
  kind: 'upload-token',
  tokenId: 't',
  apiKeyId: 'member',
  role: 'member',
  uploadId: null,
};

describe('who sees what', () => {
  const table: Array<[string, ListInput, Viewer, unknown]> = [
    ['anonymous: the public catalog', {}, undefined, [{ kind: 'public' }, ['ready']]],
    ['a key without owner/status: the public catalog too', {}, member, [{ kind: 'public' }, ['ready']]],
    [
      'owner=me: own videos, every listed status',
      { owner: 'me' },
      member,
      [{ kind: 'owner', keyId: 'member' }, ['processing', 'failed', 'ready']],
    ],
    [
      'an admin with owner=me: still only its own',
      { owner: 'me' },
      admin,
      [{ kind: 'owner', keyId: 'admin' }, ['processing', 'failed', 'ready']],
    ],
    ['status for an admin: every video in it', { status: 'failed' }, admin, [{ kind: 'all' }, ['failed']]],
    [
      'status for a member: its own',
      { status: 'processing' },
      member,
      [{ kind: 'owner', keyId: 'member' }, ['processing']],
    ],
  ];
  for (const [name, input, viewer, expected] of table) {
    test(name, () => {
      const plan = planVideoList(input, viewer);
      assert.deepEqual([plan.scope, plan.statuses], expected);
    });
  }
  test('owner=me or status without a key: AUTH_REQUIRED; with an upload token: FORBIDDEN', () => {
    assert.equal(
      codeOf(() => planVideoList({ owner: 'me' }, undefined)),
      'AUTH_REQUIRED',
    );
    assert.equal(
      codeOf(() => planVideoList({ status: 'ready' }, undefined)),
      'AUTH_REQUIRED',
    );
    assert.equal(
      codeOf(() => planVideoList({ owner: 'me' }, token)),
      'FORBIDDEN',
    );
  });
});

describe('plan', () => {
  test('defaults: newest first, 24 a page; limit capped at 100', () => {
    const plan = planVideoList({}, undefined);
    assert.deepEqual([plan.sort, plan.limit, plan.after], ['newest', 24, undefined]);
    assert.equal(planVideoList({ limit: 500 }, undefined).limit, 100);
  });
  test('tags are normalised and keep their mode; dates are parsed or refused', () => {
    const plan = planVideoList(
      { tags: [' Rock', 'rock', 'Jazz'], tagMode: 'all', uploadedAfter: '2026-01-02' },
      undefined,
    );
    assert.deepEqual(plan.tags, { values: ['rock', 'jazz'], mode: 'all' });
    assert.equal(plan.uploadedAfter?.toISOString(), '2026-01-02T00:00:00.000Z');
    assert.equal(
      codeOf(() => planVideoList({ uploadedBefore: 'yesterday' }, undefined)),
      'VALIDATION_FAILED',
    );
  });
});

describe('cursors', () => {
  const first = planVideoList({ sort: 'newest' }, undefined);
  const cursor = encodeCursor(first.fingerprint, '2026-12-01 17:00:00.123456+00', 'abcdefghijkl');

  test('round-trip: the next page starts after the row the cursor names', () => {
    const next = planVideoList({ sort: 'newest', cursor }, undefined);
    assert.deepEqual(next.after, { key: '2026-12-01 17:00:00.123456+00', id: 'abcdefghijkl' });
    assert.equal(next.fingerprint, first.fingerprint);
  });
  test('the page size may change between pages; the query may not', () => {
    assert.ok(planVideoList({ sort: 'newest', cursor, limit: 5 }, undefined).after);
    assert.equal(
      codeOf(() => planVideoList({ sort: 'oldest', cursor }, undefined)),
      'LIST_CURSOR_INVALID',
    );
    assert.equal(
      codeOf(() => planVideoList({ sort: 'newest', category: 'music', cursor }, undefined)),
      'LIST_CURSOR_INVALID',
    );
    assert.equal(
      codeOf(() => planVideoList({ owner: 'me', cursor }, member)),
      'LIST_CURSOR_INVALID',
    );
  });
  test('garbage and forged keys never reach the database', () => {
    for (const bad of [
      '',
      'x',
      '!!!',
      Buffer.from('{"a":1}').toString('base64url'),
      Buffer.from('[1,2,3]').toString('base64url'),
    ]) {
      assert.equal(
        codeOf(() => planVideoList({ cursor: bad }, undefined)),
        'LIST_CURSOR_INVALID',
        bad,
      );
    }
    const forged = encodeCursor(first.fingerprint, "'; drop table videos; --", 'abcdefghijkl');
    assert.equal(
      codeOf(() => planVideoList({ cursor: forged }, undefined)),
      'LIST_CURSOR_INVALID',
    );
    const byViews = planVideoList({ sort: 'views' }, undefined);
    assert.equal(
      codeOf(() =>
        planVideoList({ sort: 'views', cursor: encodeCursor(byViews.fingerprint, '1.5', 'x') }, undefined),
      ),
      'LIST_CURSOR_INVALID',
    );
    assert.ok(
      planVideoList(
        { sort: 'views', cursor: encodeCursor(byViews.fingerprint, '42', 'abcdefghijkl') },
        undefined,
      ).after,
    );
  });
  test('decodeCursor checks the query it belongs to', () => {
    assert.deepEqual(decodeCursor(encodeCursor('f', 'k', 'i'), 'f'), { key: 'k', id: 'i' });
    assert.throws(() => decodeCursor(encodeCursor('f', 'k', 'i'), 'g'), /another query/);
  });
});
