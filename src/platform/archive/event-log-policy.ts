/**
 * The archive policy of `event_log`, the outbox: a month is archived `EVENT_LOG_RETENTION_DAYS`
 * after it ends, unless some of its events are still ahead of a relay's checkpoint (not yet
 * published: the relay would never see them once the partition is gone). Dead letters keep
 * their own copy of the event, so a replay never needs the log.
 */
import { sql } from 'kysely';
import type { ArchivePolicy } from './partition-archiver.js';

export function eventLogArchivePolicy(retentionDays: number): ArchivePolicy {
  return {
    table: 'event_log',
    retentionDays,
    async hold(tx, partition) {
      // An event is published once it is at or behind a relay's checkpoint (tx_id, position):
      // is any row ahead of the furthest one? One probe of the partition's (tx_id, position) index.
      const furthest = await sql<{ tx_id: string; position: string }>`
        SELECT tx_id::text AS tx_id, position::text AS position FROM outbox_relay_checkpoints ORDER BY tx_id DESC, position DESC LIMIT 1`.execute(tx);
      const table = sql.raw(`"${partition}"`);
      const checkpoint = furthest.rows[0];
      const { rows: ahead } = checkpoint
        ? await sql`SELECT 1 FROM ${table} WHERE (tx_id, position) > (${checkpoint.tx_id}::xid8, ${checkpoint.position}::bigint) LIMIT 1`.execute(tx)
        : await sql`SELECT 1 FROM ${table} LIMIT 1`.execute(tx);
      if (ahead.length === 0) return undefined;
      return checkpoint
        ? 'some of its events are ahead of the relay\'s checkpoint (not published yet)'
        : 'no relay has published anything yet (no outbox_relay_checkpoints row): its events would never be published';
    },
  };
}
