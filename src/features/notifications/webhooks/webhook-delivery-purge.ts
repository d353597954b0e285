/**
 * Retention of webhook deliveries: a delivery that finished (succeeded, or failed for good)
 * more than `WEBHOOK_DELIVERY_RETENTION_DAYS` ago leaves `webhook_deliveries` with its
 * attempt log, `batchSize` per statement (walking the index of migration 0011). Pending
 * deliveries are never purged; a purged delivery is no longer listed or replayable.
 */
import { sql } from 'kysely';
import type { Executor } from '../../../platform/db/schema.js';

export async function purgeFinishedDeliveries(db: Executor, retentionDays: number, batchSize = 2_000): Promise<number> {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new RangeError(`retentionDays must be a positive integer, got ${retentionDays}`);
  let deleted = 0;
  for (;;) {
    // The attempts go in the same statement; the foreign key is checked at its end.
    const { rows } = await sql<{ id: string }>`
      WITH gone AS (
        SELECT id FROM webhook_deliveries
        WHERE status <> 'pending' AND completed_at < NOW() - make_interval(days => ${retentionDays}::int)
        ORDER BY completed_at LIMIT ${batchSize} FOR UPDATE SKIP LOCKED
      ), attempts AS (
        DELETE FROM webhook_delivery_attempts WHERE delivery_id IN (SELECT id FROM gone)
      )
      DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM gone) RETURNING id`.execute(db);
    deleted += rows.length;
    if (rows.length < batchSize) return deleted;
  }
}
