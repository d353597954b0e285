/**
 * Retention of `consumer_inbox` (migration 0003). An inbox row ("consumer C processed
 * event E") only has to outlive every delivery of E that a bus may still hand to C: a
 * crash between commit and acknowledgement is redelivered within minutes, SQS keeps an
 * unacknowledged message at most 14 days. Older rows are purged, except the rows of an
 * event that a dead letter may still publish again: replaying a dead letter sends the
 * event to every consumer of its type, and those that processed it skip it only
 * because their inbox still has it. So the rows of an event are kept while it has a
 * pending dead letter (of any consumer), and for a full retention after a replay.
 *
 * A delivery that reaches a consumer after its row is gone is handled again: the
 * retention must also outlast any time a consumer stays stopped or behind with
 * deliveries waiting for it. Dead letters are looked up by event id (index of
 * migration 0006).
 */
import { sql } from 'kysely';
import type { Executor } from '../db/schema.js';

export interface InboxPurgeOptions {
  /** Rows processed more than this many days ago are purged (dead-letter exceptions aside). */
  retentionDays: number;
  /** Rows deleted per statement, so no statement holds many row locks for long (default 5,000). */
  batchSize?: number;
}

export interface InboxPurgeResult {
  deleted: number;
  /** DELETE statements run, the last one deleting fewer rows than the batch size. */
  batches: number;
}

/**
 * Deletes the inbox rows older than the retention, one bounded batch per statement
 * (each its own transaction), until a batch deletes fewer rows than its size. Rows
 * locked by another purge running at the same time are skipped, not waited for.
 * The age is measured on the database's clock, like `processed_at` itself.
 */
export async function purgeExpiredInbox(db: Executor, options: InboxPurgeOptions): Promise<InboxPurgeResult> {
  const { retentionDays, batchSize = 5000 } = options;
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new RangeError(`retentionDays must be a positive integer, got ${retentionDays}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const cutoff = sql<Date>`NOW() - make_interval(days => ${retentionDays}::int)`;
  // The batch is selected (and locked) by the index on processed_at, then deleted by row
  // address: a join back on the key would read the whole table for every batch.
  let deleted = 0;
  let batches = 0;
  for (;;) {
    const result = await sql`
      DELETE FROM consumer_inbox
      WHERE ctid = ANY(ARRAY(
        SELECT i.ctid FROM consumer_inbox i
        WHERE i.processed_at < ${cutoff}
          AND NOT EXISTS (
            SELECT 1 FROM dead_letters d
            WHERE d.event_id = i.event_id
              AND (d.status = 'pending' OR (d.status = 'replayed' AND d.resolved_at >= ${cutoff})))
        LIMIT ${batchSize}
        FOR UPDATE OF i SKIP LOCKED))`.execute(db);
    const count = Number(result.numAffectedRows ?? 0);
    deleted += count;
    batches += 1;
    if (count < batchSize) return { deleted, batches };
  }
}
