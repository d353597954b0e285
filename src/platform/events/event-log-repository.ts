/** Reading the event log (the audit trail): an aggregate's events in the order they were written. */
import { sql, type Kysely } from 'kysely';
import type { CloudEvent } from './cloud-event.js';
import { toCloudEvent, type OutboxRow } from './event-log.js';
import type { Database } from '../db/schema.js';

export interface LoggedEvent {
  position: number;
  event: CloudEvent;
}

export async function listEventsOfAggregate(
  db: Kysely<Database>,
  aggregateId: string,
  options: { limit: number; afterPosition?: number },
): Promise<LoggedEvent[]> {
  const { rows } = await sql<OutboxRow>`
    SELECT id, position, tx_id::text AS tx_id, event_type, aggregate_id::text AS aggregate_id, data, metadata, created_by
    FROM event_log
    WHERE aggregate_id = ${aggregateId}::uuid AND position > ${options.afterPosition ?? 0}
    ORDER BY position
    LIMIT ${options.limit}`.execute(db);
  return rows.map((row) => ({ position: Number(row.position), event: toCloudEvent(row) }));
}
