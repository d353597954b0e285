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
      const { rows: [row] } = await sql<{ unpublished: boolean; relays: number | string }>`
        SELECT
          (SELECT count(*) FROM outbox_relay_checkpoints) AS relays,
          EXISTS (
            SELECT 1 FROM ${sql.raw(`"${partition}"`)} e
            WHERE NOT EXISTS (SELECT 1 FROM outbox_relay_checkpoints c WHERE (e.tx_id, e.position) <= (c.tx_id, c.position))
          ) AS unpublished`.execute(tx);
      if (row?.unpublished) {
        return Number(row.relays) === 0
          ? 'no relay has published anything yet (no outbox_relay_checkpoints row): its events would never be published'
          : 'some of its events are ahead of the relay\'s checkpoint (not published yet)';
      }
      return undefined;
    },
  };
}
