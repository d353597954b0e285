/** The event log of one aggregate, for admins (audit, debugging a projection). */
import type { Kysely } from 'kysely';
import { isAdmin, type Actor } from '../../platform/events/command-context.js';
import { DomainError } from '../../platform/errors.js';
import { listEventsOfAggregate, type LoggedEvent } from '../../platform/events/event-log-repository.js';
import type { Database } from '../../platform/db/schema.js';

export async function eventsOfAggregate(
  db: Kysely<Database>,
  actor: Actor,
  aggregateId: string,
  page: { limit: number; afterPosition?: number },
): Promise<LoggedEvent[]> {
  if (!isAdmin(actor)) throw new DomainError('forbidden', 'AUTH.FORBIDDEN', 'only an admin may read the event log');
  return listEventsOfAggregate(db, aggregateId, page);
}
