/** What ingestion's routes share: the problem statuses they document, id params. */
import { STATUS_CODES } from 'node:http';
import { Type } from 'typebox';
import { PROBLEM_CONTENT_TYPE } from '../../../platform/http/problem.js';
import { EXPECTED } from '../../../platform/http/validation.js';

export const Uuid = Type.String({ format: 'uuid', [EXPECTED]: 'a UUID such as "0b9f3c1e-6a4d-4f2b-9c8e-2d7a5b1f4e60"' });
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export function problems(...statuses: number[]): Record<number, { description: string; content: Record<string, { schema: { $ref: string } }> }> {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: STATUS_CODES[status] ?? 'Error', content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: 'Problem#' } } } }]),
  );
}
