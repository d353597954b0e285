/**
 * Operations on the event side, for admins: dead letters (list, inspect, replay,
 * discard) and the event log of an aggregate.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import {
  discardDeadLetter,
  getDeadLetter,
  listDeadLetters,
  replayDeadLetter,
  type DeadLetterDependencies,
} from './dead-letter-use-cases.js';
import { eventsOfAggregate } from './event-history-use-cases.js';
import { DomainError } from '../../platform/errors.js';
import type { DeadLetter as DeadLetterModel } from './dead-letter-model.js';
import { actorOf } from '../../platform/http/authenticate.js';

const Problem = { $ref: 'Problem#' } as const;
const Timestamp = Type.String({ format: 'date-time' });
const Status = Type.Enum(['pending', 'replayed', 'discarded']);

const DeadLetterSummary = Type.Object({
  id: Type.String({ format: 'uuid' }),
  consumer: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  subject: Type.String(),
  error: Type.String(),
  attempts: Type.Integer(),
  first_attempt_at: Timestamp,
  last_attempt_at: Timestamp,
  status: Status,
  resolved_at: Type.Union([Timestamp, Type.Null()]),
  resolved_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
});
const DeadLetter = Type.Object({
  ...DeadLetterSummary.properties,
  event: Type.Record(Type.String(), Type.Unknown(), { description: 'The CloudEvent as delivered' }),
});
const CloudEventSchema = Type.Record(Type.String(), Type.Unknown(), { description: 'A CloudEvent 1.0 (structured JSON)' });

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const ListQuery = Type.Object(
  {
    status: Type.Optional(Status),
    consumer: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
const EventsQuery = Type.Object(
  {
    aggregate_id: Type.String({ format: 'uuid' }),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 100 }),
    cursor: Type.Optional(Type.String({ pattern: '^\\d{1,18}$' })),
  },
  { additionalProperties: false },
);

const errors = {
  400: Problem,
  401: Problem,
  403: Problem,
  422: Problem,
  429: Problem,
};
/** The admin routes need a bearer token of an admin. */
const security = [{ bearerAuth: [] }];

function summary(row: DeadLetterModel): Static<typeof DeadLetterSummary> {
  return {
    id: row.id,
    consumer: row.consumer,
    event_id: row.event_id,
    event_type: row.event_type,
    subject: row.subject,
    error: row.error,
    attempts: row.attempts,
    first_attempt_at: new Date(row.first_attempt_at).toISOString(),
    last_attempt_at: new Date(row.last_attempt_at).toISOString(),
    status: row.status,
    resolved_at: row.resolved_at ? new Date(row.resolved_at).toISOString() : null,
    resolved_by: row.resolved_by,
    created_at: row.created_at.toISOString(),
  };
}
const full = (row: DeadLetterModel): Static<typeof DeadLetter> => ({ ...summary(row), event: row.event as Record<string, unknown> });

function encodeCursor(row: DeadLetterModel): string {
  return Buffer.from(`${row.created_at.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new DomainError('invalid', 'REQUEST.INVALID_CURSOR', 'the cursor is not one this API returned', [{ path: '/query/cursor', message: 'is invalid' }]);
  }
  return { createdAt, id };
}

export const adminEventRoutes: FastifyPluginAsyncTypebox<DeadLetterDependencies> = async (app, deps) => {
  const tags = ['admin'];
  app.addHook('onRequest', app.authenticate);

  app.get(
    '/v1/admin/dead-letters',
    {
      schema: {
        tags,
        summary: 'Dead letters, newest first',
        security,
        description: 'Events a consumer gave up on after its last attempt, with the error, by `status` or `consumer` if given; page with `next_cursor`. Admins only (403 otherwise); 422 for a bad query or cursor.',
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(DeadLetterSummary), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errors },
      },
    },
    async (request) => {
      const { limit, cursor, status, consumer } = request.query;
      const rows = await listDeadLetters(deps, actorOf(request), {
        limit: limit + 1,
        ...(status ? { status } : {}),
        ...(consumer ? { consumer } : {}),
        ...(cursor ? { before: decodeCursor(cursor) } : {}),
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { items: page.map(summary), next_cursor: rows.length > limit && last ? encodeCursor(last) : null };
    },
  );

  app.get(
    '/v1/admin/dead-letters/:id',
    {
      schema: {
        tags,
        summary: 'One dead letter with its event',
        security,
        description: 'A dead letter with the CloudEvent as it was delivered, to decide whether to replay or discard it. Admins only; 404 when no dead letter has this id.',
        params: IdParams,
        response: { 200: DeadLetter, ...errors, 404: Problem },
      },
    },
    async (request) => full(await getDeadLetter(deps, actorOf(request), request.params.id)),
  );

  app.post(
    '/v1/admin/dead-letters/:id/replay',
    {
      schema: {
        tags,
        summary: 'Publish the event again to its consumers',
        security,
        description:
          'The consumer gets a fresh set of attempts; consumers that already processed the event skip it (inbox). ' +
          '409 when the dead letter is already replayed or discarded; 503 when the bus cannot take the event (it stays pending).',
        params: IdParams,
        response: { 200: DeadLetter, ...errors, 404: Problem, 409: Problem, 415: Problem, 503: Problem },
      },
    },
    async (request) => full(await replayDeadLetter(deps, actorOf(request), request.params.id)),
  );

  app.post(
    '/v1/admin/dead-letters/:id/discard',
    {
      schema: {
        tags,
        summary: 'Give up on the event for good',
        security,
        description: 'Marks the dead letter discarded: its event is not delivered to that consumer again. Admins only; 409 when it is already replayed or discarded.',
        params: IdParams,
        response: { 200: DeadLetter, ...errors, 404: Problem, 409: Problem, 415: Problem },
      },
    },
    async (request) => full(await discardDeadLetter(deps, actorOf(request), request.params.id)),
  );

  app.get(
    '/v1/admin/events',
    {
      schema: {
        tags,
        summary: 'The event log of one aggregate, oldest first',
        security,
        description: 'Every event written for the aggregate (its audit trail), with its log position; page with `next_cursor`. Admins only; 422 without a valid `aggregate_id`.',
        querystring: EventsQuery,
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({ position: Type.Integer(), event: CloudEventSchema })),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { aggregate_id, limit, cursor } = request.query;
      const rows = await eventsOfAggregate(deps.db, actorOf(request), aggregate_id, {
        limit: limit + 1,
        ...(cursor ? { afterPosition: Number(cursor) } : {}),
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({ position: r.position, event: r.event as unknown as Record<string, unknown> })),
        next_cursor: rows.length > limit && last ? String(last.position) : null,
      };
    },
  );
};
