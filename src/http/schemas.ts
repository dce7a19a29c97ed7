import { Type } from 'typebox';
import { ID_PATTERN } from '../platform/ids.ts';

export const IdParam = Type.String({ pattern: ID_PATTERN, description: '12-character id' });

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
