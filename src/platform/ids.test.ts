import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ID_PATTERN, newId } from './ids.ts';

test('ids are 12 URL-safe characters and never start like a command-line option', () => {
  const pattern = new RegExp(ID_PATTERN);
  // 1 in 32 raw base64url strings starts with '-' or '_': 20 000 draws would hit that ~625 times.
  for (let i = 0; i < 20_000; i++) {
    const id = newId();
    assert.match(id, pattern);
    assert.match(id, /^[A-Za-z0-9]/);
  }
});
