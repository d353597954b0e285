/**
 * What every catalog route shares: id params, pagination query, the `If-Match` /
 * `ETag` handshake, the command context of a request, and the list of problem
 * statuses a route documents.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TSchema } from 'typebox';
import type { CatalogCommand, CatalogDeps } from './access.js';
import { ANY_VERSION, type ExpectedVersion } from './transact.js';
import { DomainError, type FieldError } from '../../../platform/errors.js';
import type { Page } from '../../../platform/db/keyset-page.js';
import { actorOf } from '../../../platform/http/authenticate.js';
import { PROBLEM_CONTENT_TYPE, RequestProblem } from '../../../platform/http/problem.js';
import { EXPECTED } from '../../../platform/http/validation.js';

export const Uuid = Type.String({ format: 'uuid', [EXPECTED]: 'a UUID such as "0b9f3c1e-6a4d-4f2b-9c8e-2d7a5b1f4e60"' });
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const Timestamp = Type.String({ format: 'date-time' });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** `limit` and `cursor`, to spread into a querystring schema. */
export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Items per page (at most 200)' }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The `next_cursor` of the previous page' })),
};

export const ListOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: Nullable(Type.String()) }, { additionalProperties: false });

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({ description: 'Required: the `ETag` you read, quoted (`"3"`), or `*` for whatever version is current', examples: ['"3"'] }),
  ),
});
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'Replays the first response for 24 h; nothing is created twice' }),
  ),
});

/** What every catalog operation of a kind does, for the end of its OpenAPI description. */
export const Conventions = {
  list: 'One page at a time, oldest first: send `next_cursor` back as `cursor` until it is null (`limit` up to 200, default 50).',
  read: 'The `ETag` header carries its version: send it back as `If-Match` to change or delete it. 404 also for a row you may not see.',
  create: 'Answers 201 with `Location` and `ETag`. With `Idempotency-Key`, a retry replays the first response: nothing is created twice.',
  change:
    'Changes only the fields sent (`application/json` or `application/merge-patch+json`). Needs `If-Match` with the ETag you read ' +
    '(or `*`): 428 without it, 412 when the row changed since, and then nothing changes.',
  remove: 'A soft delete: the row vanishes from reads and lists. Needs `If-Match` with the ETag you read (or `*`); 412 when it changed since.',
} as const;

/** `{ 401: Problem, … }` for a route's error statuses, documented as `application/problem+json`. */
export function problems(...statuses: number[]): Record<number, { description: string; content: Record<string, { schema: { $ref: string } }> }> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: STATUS_CODES[status] ?? 'Error', content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: 'Problem#' } } } },
    ]),
  );
}

/** The dependencies and context of a command made by `request`. */
export function commandOf(deps: CatalogDeps, request: FastifyRequest): CatalogCommand {
  const traceparent = request.headers.traceparent;
  return {
    ...deps,
    // An idempotent POST runs its command in the transaction that also stores its response (idempotency.ts).
    db: request.idempotencyTransaction ?? deps.db,
    context: {
      actor: actorOf(request),
      correlationId: request.id,
      ...(typeof traceparent === 'string' ? { traceparent } : {}),
    },
  };
}

/** Sends a JSON body that is already serialized (with the route's serializer), as it is. */
export function sendSerialized(reply: FastifyReply, body: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(body);
}

export function setEtag(reply: FastifyReply, version: number): void {
  reply.header('etag', `"${version}"`);
}

/** One entity-tag (RFC 9110 §8.8.3): optionally weak, then quoted visible characters. */
const ENTITY_TAG = /^(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;
/** One of our ETags: the version in quotes (a weak form is taken as the same). */
const VERSION_TAG = /^(?:W\/)?"(\d{1,9})"$/;
const NOT_OURS = -1;

function malformedIfMatch(header: string): RequestProblem {
  const version = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header)?.[1] ?? '3';
  return new RequestProblem(
    400,
    'REQUEST.IF_MATCH_MALFORMED',
    `If-Match must be one ETag as you read it, in double quotes, such as \`If-Match: "${version}"\` (or \`If-Match: *\` for any version)`,
    [{ path: '/headers/if-match', message: 'is not a quoted ETag' }],
  );
}

/**
 * The version named by `If-Match`: `*` for any, or one ETag. Missing → 428 (before
 * anything is read, so it tells nothing about the row). A malformed header (an
 * unquoted version, a list) → 400 saying how to send it. A well-formed ETag that is
 * not one of ours can never match: it becomes -1, and the use case answers 412 (or
 * 404 for a row the caller may not see).
 */
export function expectedVersion(request: FastifyRequest): ExpectedVersion {
  const header = request.headers['if-match'];
  if (header === undefined || header === '') {
    throw new DomainError('precondition_required', 'REQUEST.IF_MATCH_REQUIRED', 'send `If-Match: "<version>"` with the ETag you read');
  }
  const value = String(header).trim();
  if (value === ANY_VERSION) return ANY_VERSION;
  if (!ENTITY_TAG.test(value)) throw malformedIfMatch(value);
  const version = VERSION_TAG.exec(value)?.[1];
  return version === undefined ? NOT_OURS : Number(version);
}

export function pageJson<T, J>(page: Page<T>, toJson: (item: T) => J): { items: J[]; next_cursor: string | null } {
  return { items: page.items.map(toJson), next_cursor: page.nextCursor };
}

/**
 * PostgreSQL cannot store U+0000 in text or JSONB; refuse it as a field error
 * before it reaches the database.
 */
export async function rejectNulCharacters(request: FastifyRequest): Promise<void> {
  const errors: FieldError[] = [];
  const visit = (value: unknown, path: string): void => {
    if (errors.length >= 10) return;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) errors.push({ path: path || '/', message: 'must not contain U+0000' });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, `${path}/${index}`));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes('\u0000')) errors.push({ path: path || '/', message: 'has a key containing U+0000' });
        visit(item, `${path}/${key}`);
      }
    }
  };
  visit(request.body, '');
  if (errors.length > 0) throw new DomainError('invalid', 'REQUEST.INVALID', 'the body is invalid', errors);
}
