/** Partitions of a past month for the archiver's tests, filled with rows of every column type the tables have. */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/platform/db/schema.js';
import { monthPartitionsDdl } from '../../src/platform/db/partitions.js';

export const PLAYBACK_EVENTS_PER_MONTH = 300;
export const PLAYBACK_CHARGES_PER_MONTH = 250;

/**
 * `event_log`, `playback_events` and `playback_charges` partitions of `month` (`YYYY-MM`),
 * with `events` event_log rows (NULLs, NUMERIC, jsonb with newlines and non-ASCII text,
 * microseconds) and the playback rows; the relay's checkpoint is then past every event.
 */
export async function fillPastMonth(db: Kysely<Database>, month: string, events: number): Promise<void> {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const from = new Date(Date.UTC(y, m - 1, 1));
  const ddl = ['event_log', 'playback_events', 'playback_charges'].map((t) => monthPartitionsDdl(from, 1, t)).join('\n');
  await sql.raw(ddl).execute(db);
  await sql`
    INSERT INTO event_log (event_type, aggregate_type, aggregate_id, data, metadata, created_at, created_by)
    SELECT 'com.nedlia.test.archived', 'test', gen_random_uuid(),
           jsonb_build_object('i', g, 'text', 'line one' || chr(10) || 'two "quoted" é ✓', 'n', 1.0000001 * g),
           CASE WHEN g % 7 = 0 THEN NULL ELSE '{"k": [1, 2.50, null]}'::jsonb END,
           ${from}::timestamptz + g * interval '37 seconds' + interval '0.000123 seconds', CASE WHEN g % 3 = 0 THEN NULL ELSE 'tester' END
    FROM generate_series(1, ${events}) g`.execute(db);
  await sql`
    INSERT INTO playback_events (received_at, event_id, type, placement_id, video_id, product_id, occurred_at, session_id, properties, batch_id)
    SELECT ${from}::timestamptz + g * interval '1 hour', gen_random_uuid(), 'impression', gen_random_uuid(), gen_random_uuid(), gen_random_uuid(),
           ${from}::timestamptz + g * interval '1 hour', 's' || g, '{"w": 1920}'::jsonb, gen_random_uuid()
    FROM generate_series(1, ${PLAYBACK_EVENTS_PER_MONTH}) g`.execute(db);
  await sql`
    INSERT INTO playback_charges (applied_at, event_id, campaign_id, type, occurred_at, day, amount, outcome)
    SELECT ${from}::timestamptz + g * interval '1 hour', gen_random_uuid(), gen_random_uuid(), 'impression',
           ${from}::timestamptz + g * interval '1 hour', (${from}::timestamptz + g * interval '1 hour')::date, 0.0012345 * g, 'charged'
    FROM generate_series(1, ${PLAYBACK_CHARGES_PER_MONTH}) g`.execute(db);
  await relayPastEverything(db);
}

/** A relay checkpoint past every event written so far. */
export async function relayPastEverything(db: Kysely<Database>): Promise<void> {
  await sql`
    INSERT INTO outbox_relay_checkpoints (name, tx_id, position) VALUES ('archive-test', pg_current_xact_id(), 9223372036854775807)
    ON CONFLICT (name) DO UPDATE SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position`.execute(db);
}
