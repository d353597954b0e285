/**
 * The request path's queries: what it must know of placements, and the one
 * transaction that stores a group of accepted events (dedup, raw rows, outbox).
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../platform/db/schema.js';
import type { AcceptedEvent } from './event-model.js';
import type { PlacementFacts } from './event-rules.js';
import { PlaybackEventTypes } from '../ingestion-events.js';

/** Events per outbox event (and per matcher transaction). */
export const EVENTS_PER_BATCH = 500;

export async function findPlacements(db: Kysely<Database>, ids: readonly string[]): Promise<PlacementFacts[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('placements as p')
    .innerJoin('videos as v', 'v.id', 'p.video_id')
    .select(['p.id', 'p.video_id', 'p.product_id', 'v.owner_id', 'p.status', 'p.deleted_at', 'v.deleted_at as video_deleted_at'])
    .where('p.id', 'in', [...ids])
    .execute();
  return rows.map((r) => ({
    id: r.id,
    videoId: r.video_id,
    productId: r.product_id,
    ownerId: r.owner_id,
    live: r.status === 'active' && r.deleted_at === null && r.video_deleted_at === null,
  }));
}

/**
 * Stores `events` (ids distinct) in one statement, so one round trip and one commit:
 * the ids not seen before are recorded in `ingest_event_ids` and kept raw in
 * `playback_events`; their impressions and clicks are kept in batches of 500 in
 * `ingest_batches` (the events in `payload`, built here in SQL from fields the request
 * path validated) until the matcher applied them, and each batch is announced in the
 * outbox (`playback.events_accepted` v3: its id and size; the registry checks it on
 * consume). Returns the ids that were new.
 */
export async function storeEvents(db: Kysely<Database>, events: readonly AcceptedEvent[], correlationId: string): Promise<Set<string>> {
  // In id order: two commits with ids in common lock them in the same order (no deadlock).
  const rows = [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((e) => ({
    event_id: e.id, type: e.type, placement_id: e.placement_id, video_id: e.video_id, product_id: e.product_id,
    occurred_at: e.occurred_at, session_id: e.session_id ?? null, properties: e.properties ?? null, ingest_key_id: e.ingest_key_id,
  }));
  const { rows: fresh } = await sql<{ event_id: string }>`
    WITH incoming AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(
        event_id uuid, type text, placement_id uuid, video_id uuid, product_id uuid,
        occurred_at text, session_id text, properties jsonb, ingest_key_id uuid)
    ),
    fresh AS (
      INSERT INTO ingest_event_ids (event_id) SELECT event_id FROM incoming ORDER BY event_id ON CONFLICT DO NOTHING RETURNING event_id
    ),
    raw AS (
      INSERT INTO playback_events (received_at, event_id, type, placement_id, video_id, product_id, occurred_at, session_id, properties, ingest_key_id, batch_id)
      SELECT now(), i.event_id, i.type, i.placement_id, i.video_id, i.product_id, i.occurred_at::timestamptz, i.session_id, i.properties, i.ingest_key_id, ${randomUUID()}::uuid
      FROM incoming i JOIN fresh f ON f.event_id = i.event_id
      RETURNING event_id
    ),
    matchable AS (
      SELECT i.*, (row_number() OVER (ORDER BY i.event_id) - 1) / ${EVENTS_PER_BATCH} AS chunk
      FROM incoming i JOIN raw r ON r.event_id = i.event_id
      WHERE i.type IN ('impression', 'click')
    ),
    chunks AS (
      SELECT chunk, gen_random_uuid() AS batch_id, count(*)::int AS n,
             jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'id', event_id, 'type', type, 'placement_id', placement_id, 'product_id', product_id,
               'occurred_at', occurred_at, 'session_id', session_id))) AS events
      FROM matchable GROUP BY chunk
    ),
    batches AS (
      INSERT INTO ingest_batches (batch_id, events, payload) SELECT batch_id, n, events FROM chunks
    ),
    outbox AS (
      INSERT INTO event_log (id, event_type, aggregate_type, aggregate_id, data, metadata, created_at, created_by)
      SELECT gen_random_uuid(), ${PlaybackEventTypes.eventsAccepted}, 'playback', batch_id,
             jsonb_build_object('batch_id', batch_id, 'count', n),
             jsonb_build_object('specversion', '1.0', 'source', '/ingestion', 'schemaversion', 3, 'correlationid', ${correlationId}::text,
                                'time', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
             now(), 'ingestion'
      FROM chunks
    )
    SELECT event_id FROM raw`.execute(db);
  return new Set(fresh.map((r) => r.event_id));
}
