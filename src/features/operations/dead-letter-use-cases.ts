/**
 * Dead-letter operations for admins: list, inspect, replay (publish the event again so
 * the consumer gets a fresh set of attempts) and discard. Replay goes through the bus
 * like any event: consumers that already processed it find it in their inbox and skip it.
 */
import type { Kysely } from 'kysely';
import type { Actor } from '../../platform/events/command-context.js';
import { isAdmin } from '../../platform/events/command-context.js';
import { DomainError, notFound } from '../../platform/errors.js';
import type { CloudEvent } from '../../platform/events/cloud-event.js';
import type { EventBus } from '../../platform/bus/event-bus.js';
import {
  findDeadLetter,
  listDeadLetters as listRows,
  resolveDeadLetter,
  type DeadLetterFilter,
} from '../../platform/events/dead-letter-repository.js';
import type { Database } from '../../platform/db/schema.js';
import type { DeadLetter } from './dead-letter-model.js';

export interface DeadLetterDependencies {
  db: Kysely<Database>;
  bus?: EventBus;
}

function requireAdmin(actor: Actor): void {
  if (!isAdmin(actor)) throw new DomainError('forbidden', 'AUTH.FORBIDDEN', 'only an admin may manage dead letters');
}

export async function listDeadLetters(deps: DeadLetterDependencies, actor: Actor, filter: DeadLetterFilter): Promise<DeadLetter[]> {
  requireAdmin(actor);
  return listRows(deps.db, filter);
}

export async function getDeadLetter(deps: DeadLetterDependencies, actor: Actor, id: string): Promise<DeadLetter> {
  requireAdmin(actor);
  const row = await findDeadLetter(deps.db, id);
  if (!row) throw notFound('dead letter', id);
  return row;
}

async function resolve(deps: DeadLetterDependencies, id: string, status: 'replayed' | 'discarded', by: string): Promise<DeadLetter> {
  const row = await resolveDeadLetter(deps.db, id, status, by);
  if (row) return row;
  const existing = await findDeadLetter(deps.db, id);
  if (!existing) throw notFound('dead letter', id);
  throw new DomainError('conflict', 'DEAD_LETTER.ALREADY_RESOLVED', `dead letter ${id} is already ${existing.status}`);
}

/**
 * Publishes the event again, then marks the dead letter replayed. If publishing fails
 * the dead letter stays pending and can be replayed later.
 */
export async function replayDeadLetter(deps: DeadLetterDependencies, actor: Actor, id: string): Promise<DeadLetter> {
  requireAdmin(actor);
  if (!deps.bus) throw new DomainError('unavailable', 'BUS.UNAVAILABLE', 'no event bus is configured in this process');
  const row = await findDeadLetter(deps.db, id);
  if (!row) throw notFound('dead letter', id);
  if (row.status !== 'pending') {
    throw new DomainError('conflict', 'DEAD_LETTER.ALREADY_RESOLVED', `dead letter ${id} is already ${row.status}`);
  }
  await deps.bus.publish([row.event as CloudEvent]);
  return resolve(deps, id, 'replayed', actor.userId);
}

export async function discardDeadLetter(deps: DeadLetterDependencies, actor: Actor, id: string): Promise<DeadLetter> {
  requireAdmin(actor);
  return resolve(deps, id, 'discarded', actor.userId);
}
