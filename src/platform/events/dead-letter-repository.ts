/**
 * Dead letters and the consumer bookkeeping around them (failures so far, inbox).
 * Every function takes the executor first, so the caller picks the transaction.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { CloudEvent } from './cloud-event.js';
import type { Database, DeadLetterStatus, DeadLettersTable } from '../db/schema.js';

type Executor = Kysely<Database>;
export type DeadLetterRow = Selectable<DeadLettersTable>;

/**
 * Deletes the dead letters replayed or discarded more than `retentionDays` ago (never
 * fewer days than `inboxRetentionDays`: the inbox purge keeps an event's rows for that
 * long after a replay, and reads the replay here), `batchSize` per statement. Pending dead
 * letters are never purged. Answers how many went.
 */
export async function purgeResolvedDeadLetters(db: Executor, options: { retentionDays: number; inboxRetentionDays: number; batchSize?: number }): Promise<number> {
  const days = Math.max(options.retentionDays, options.inboxRetentionDays);
  const batchSize = options.batchSize ?? 5000;
  let deleted = 0;
  for (;;) {
    const result = await sql`
      DELETE FROM dead_letters WHERE id IN (
        SELECT id FROM dead_letters
        WHERE status <> 'pending' AND resolved_at < NOW() - make_interval(days => ${days}::int)
        LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`.execute(db);
    const count = Number(result.numAffectedRows ?? 0);
    deleted += count;
    if (count < batchSize) return deleted;
  }
}

/** Counts a failed attempt; keeps when the first one happened. */
export async function recordFailure(db: Executor, consumer: string, eventId: string, error: string): Promise<void> {
  await db
    .insertInto('consumer_failures')
    .values({ consumer, event_id: eventId, last_error: error })
    .onConflict((oc) =>
      oc.columns(['consumer', 'event_id']).doUpdateSet({
        failures: sql`consumer_failures.failures + 1`,
        last_attempt_at: sql`clock_timestamp()`,
        last_error: error,
      }),
    )
    .execute();
}

export async function clearFailures(db: Executor, consumer: string, eventId: string): Promise<void> {
  await db.deleteFrom('consumer_failures').where('consumer', '=', consumer).where('event_id', '=', eventId).execute();
}

/** Records the dead letter (once per open case) and forgets the failure count. */
export async function insertDeadLetter(
  db: Executor,
  entry: { consumer: string; event: CloudEvent; error: string; attempts: number },
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const failures = await tx
      .selectFrom('consumer_failures')
      .select(['first_attempt_at'])
      .where('consumer', '=', entry.consumer)
      .where('event_id', '=', String(entry.event.id))
      .executeTakeFirst();
    const now = new Date();
    await sql`
      INSERT INTO dead_letters (consumer, event_id, event_type, subject, event, error, attempts, first_attempt_at, last_attempt_at)
      VALUES (${entry.consumer}, ${String(entry.event.id)}, ${String(entry.event.type)}, ${String(entry.event.subject ?? '')},
              ${JSON.stringify(entry.event)}::jsonb, ${entry.error.slice(0, 4000)}, ${entry.attempts},
              ${failures?.first_attempt_at ?? now}, ${now})
      ON CONFLICT (consumer, event_id) WHERE status = 'pending' DO NOTHING`.execute(tx);
    await clearFailures(tx, entry.consumer, String(entry.event.id));
  });
}

export interface DeadLetterFilter {
  consumer?: string;
  status?: DeadLetterStatus;
  limit: number;
  /** Rows created strictly before this one (keyset pagination by created_at, id). */
  before?: { createdAt: Date; id: string };
}

export async function listDeadLetters(db: Executor, filter: DeadLetterFilter): Promise<DeadLetterRow[]> {
  let query = db.selectFrom('dead_letters').selectAll();
  if (filter.consumer) query = query.where('consumer', '=', filter.consumer);
  if (filter.status) query = query.where('status', '=', filter.status);
  // The cursor carries a JavaScript Date (milliseconds) while the column keeps
  // microseconds: order and compare on the millisecond, then the id, so two rows
  // written in the same millisecond are neither skipped nor repeated.
  const createdMs = sql<Date>`date_trunc('milliseconds', created_at)`;
  if (filter.before) {
    const { createdAt, id } = filter.before;
    query = query.where(sql<boolean>`(${createdMs}, id) < (${createdAt}, ${id}::uuid)`);
  }
  return query.orderBy(createdMs, 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

export async function findDeadLetter(db: Executor, id: string): Promise<DeadLetterRow | undefined> {
  return db.selectFrom('dead_letters').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Moves a pending dead letter to `status`; undefined when it is missing or not pending. */
export async function resolveDeadLetter(
  db: Executor,
  id: string,
  status: Exclude<DeadLetterStatus, 'pending'>,
  by: string,
): Promise<DeadLetterRow | undefined> {
  return db
    .updateTable('dead_letters')
    .set({ status, resolved_at: new Date(), resolved_by: by })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
}

/** Whether the consumer's inbox already records the event. */
export async function inInbox(db: Executor, consumer: string, eventId: string): Promise<boolean> {
  const row = await db
    .selectFrom('consumer_inbox')
    .select('event_id')
    .where('consumer', '=', consumer)
    .where('event_id', '=', eventId)
    .executeTakeFirst();
  return row !== undefined;
}
