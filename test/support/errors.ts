import assert from 'node:assert/strict';
import { AppError } from '../../src/errors.ts';

/** The code of the AppError `run` throws, or 'ok' when it returns. */
export function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    return error.code;
  }
  return 'ok';
}
