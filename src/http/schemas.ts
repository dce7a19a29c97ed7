import { Type } from 'typebox';
import { ID_PATTERN } from '../platform/ids.ts';

export const IdParam = Type.String({ pattern: ID_PATTERN, description: '12-character id' });

// PostgreSQL refuses NUL in text, and control characters have no place in names: refuse them at the
// edge (400 VALIDATION_FAILED naming the field) instead of failing in the database.
const NO_CONTROLS = '^[^\\u0000-\\u001F\\u007F]*$';
const TAB_AND_NEWLINES_ONLY = '^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$';

/** One line of text (a title, a tag, a file name): no control characters. */
export function TextLine(options: { minLength?: number; maxLength: number; description?: string }) {
  return Type.String({ ...options, pattern: NO_CONTROLS });
}

/** Free text (a description): tabs and line breaks allowed, no other control characters. */
export function TextBlock(options: { minLength?: number; maxLength: number; description?: string }) {
  return Type.String({ ...options, pattern: TAB_AND_NEWLINES_ONLY });
}

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable upper-snake code, e.g. UPLOAD_CHUNK_DIGEST_MISMATCH' }),
      message: Type.String(),
      details: Type.Record(Type.String(), Type.Unknown()),
    }),
  },
  { $id: 'Error' },
);

/** Standard error responses for OpenAPI, by status. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, Type.Ref('Error')]));
}
