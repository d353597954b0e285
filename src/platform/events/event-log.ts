/**
 * Appending to the event log (the outbox). Call it with the transaction that writes
 * the command's rows: the events commit if and only if the change does.
 */
import { randomUUID } from 'node:crypto';
import { aggregateTypeOf, type CloudEvent } from './cloud-event.js';
import { eventRegistry as registry } from './registry.js';
import type { CommandContext } from './command-context.js';
import { CompiledQuery } from 'kysely';
import type { Executor } from '../db/schema.js';
import { preparedStatement } from '../db/prepared-statements.js';

export interface NewEvent<T = unknown> {
  type: string;
  /** Schema major version; the latest registered if omitted. */
  version?: number;
  subject: string;
  data: T;
  source?: string;
}

export class InvalidEventError extends Error {
  constructor(
    readonly type: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(`event ${type} does not match its schema: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
    this.name = 'InvalidEventError';
  }
}

function latestVersion(type: string): number {
  const version = registry.latestVersion(type);
  if (version === undefined) throw new InvalidEventError(type, [{ path: '/type', message: 'is not a registered event' }]);
  return version;
}

/** Builds a CloudEvent for `context`, validated against the registry. */
export function buildEvent<T>(event: NewEvent<T>, context: Pick<CommandContext, 'correlationId' | 'traceparent'> & { actor?: string }): CloudEvent<T> {
  const aggregate = aggregateTypeOf(event.type);
  const cloudEvent: CloudEvent<T> = {
    specversion: '1.0',
    id: randomUUID(),
    source: event.source ?? `/${aggregate.replace(/_/g, '-')}s`,
    type: event.type,
    time: new Date().toISOString(),
    subject: event.subject,
    datacontenttype: 'application/json',
    data: event.data,
    schemaversion: event.version ?? latestVersion(event.type),
    correlationid: context.correlationId,
    ...(context.traceparent ? { traceparent: context.traceparent } : {}),
    ...(context.actor ? { actor: context.actor } : {}),
  };
  const problems = registry.problems(cloudEvent);
  if (problems.length > 0) throw new InvalidEventError(event.type, problems);
  return cloudEvent;
}

/**
 * One statement for any number of events, with SQL that never changes: it runs as a
 * prepared statement (parsed and planned once per connection), and the query builder
 * is not on the path of every command. Rows are inserted in array order, so the
 * events of one command take consecutive positions in the order given.
 */
const INSERT_EVENTS = preparedStatement(
  'event_log_insert',
  CompiledQuery.raw(
    `INSERT INTO event_log (id, event_type, aggregate_type, aggregate_id, data, metadata, created_at, created_by)
     SELECT e.id, e.event_type, e.aggregate_type, e.aggregate_id, e.data, e.metadata, e.created_at, e.created_by
     FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (id uuid, event_type text, aggregate_type text, aggregate_id uuid,
       data jsonb, metadata jsonb, created_at timestamptz, created_by text)) WITH ORDINALITY
       AS e(id, event_type, aggregate_type, aggregate_id, data, metadata, created_at, created_by, n)
     ORDER BY e.n`,
    [],
  ),
);

/** Writes already-built events to the outbox. */
export async function insertEvents(db: Executor, events: readonly CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    id: e.id,
    event_type: e.type,
    aggregate_type: aggregateTypeOf(e.type),
    aggregate_id: e.subject,
    data: e.data,
    metadata: {
      specversion: e.specversion,
      source: e.source,
      time: e.time,
      schemaversion: e.schemaversion,
      ...(e.correlationid ? { correlationid: e.correlationid } : {}),
      ...(e.traceparent ? { traceparent: e.traceparent } : {}),
    },
    created_at: e.time,
    created_by: e.actor ?? null,
  }));
  await db.executeQuery({ ...INSERT_EVENTS, parameters: [JSON.stringify(rows)] });
}

/** Builds, validates and appends events for a command, in the caller's transaction. */
export async function appendEvents(db: Executor, context: CommandContext, events: readonly NewEvent[]): Promise<CloudEvent[]> {
  const built = events.map((e) => buildEvent(e, { correlationId: context.correlationId, traceparent: context.traceparent, actor: context.actor.userId }));
  await insertEvents(db, built);
  return built;
}

/** An `event_log` row as the readers select it (tx_id and aggregate_id as text). */
export interface OutboxRow {
  id: string;
  position: number;
  tx_id: string;
  event_type: string;
  aggregate_id: string;
  data: unknown;
  metadata: Record<string, unknown> | null;
  created_by: string | null;
}

/** Rebuilds the CloudEvent stored by `insertEvents`. */
export function toCloudEvent(row: OutboxRow): CloudEvent {
  const m = row.metadata ?? {};
  return {
    specversion: '1.0',
    id: row.id,
    source: String(m.source ?? '/'),
    type: row.event_type,
    time: String(m.time ?? new Date(0).toISOString()),
    subject: row.aggregate_id,
    datacontenttype: 'application/json',
    data: row.data,
    schemaversion: Number(m.schemaversion ?? 1),
    ...(typeof m.correlationid === 'string' ? { correlationid: m.correlationid } : {}),
    ...(typeof m.traceparent === 'string' ? { traceparent: m.traceparent } : {}),
    ...(row.created_by ? { actor: row.created_by } : {}),
  };
}
