/**
 * The request path's queries: what it must know of placements, and the one
 * transaction that stores a group of accepted events (dedup, raw rows, outbox).
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../platform/db/schema.js';
import { buildEvent, insertEvents } from '../../../platform/events/event-log.js';
import type { AcceptedEvent } from './event-model.js';
import type { PlacementFacts } from './event-rules.js';
import { PlaybackEventTypes, type AcceptedPlaybackEvent } from '../ingestion-events.js';

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

/** What the matcher needs of an event (views are stored, never matched). */
const matchable = (e: AcceptedEvent): boolean => e.type === 'impression' || e.type === 'click';

function toPayload(e: AcceptedEvent): AcceptedPlaybackEvent {
  return {
    id: e.id,
    type: e.type as 'impression' | 'click',
    placement_id: e.placement_id,
    product_id: e.product_id,
    occurred_at: e.occurred_at,
    ...(e.session_id !== undefined ? { session_id: e.session_id } : {}),
  };
}

/**
 * Stores `events` (ids distinct) in one transaction: the ids not seen before are
 * recorded in `ingest_event_ids` and kept raw in `playback_events`; their impressions
 * and clicks go to the outbox in batches for the matcher, each noted in
 * `ingest_batches` until applied. Returns the ids that were new.
 */
export async function storeEvents(db: Kysely<Database>, events: readonly AcceptedEvent[], correlationId: string): Promise<Set<string>> {
  return db.transaction().execute(async (tx) => {
    const batchIds: string[] = [];
    // In id order: two commits with ids in common lock them in the same order (no deadlock).
    const rows = [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((e) => ({
      event_id: e.id, type: e.type, placement_id: e.placement_id, video_id: e.video_id, product_id: e.product_id,
      occurred_at: e.occurred_at, session_id: e.session_id ?? null, properties: e.properties ?? null, ingest_key_id: e.ingest_key_id,
    }));
    const rawBatch = randomUUID();
    const { rows: fresh } = await sql<{ event_id: string }>`
      WITH incoming AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(
          event_id uuid, type text, placement_id uuid, video_id uuid, product_id uuid,
          occurred_at timestamptz, session_id text, properties jsonb, ingest_key_id uuid)
      ),
      fresh AS (
        INSERT INTO ingest_event_ids (event_id) SELECT event_id FROM incoming ORDER BY event_id ON CONFLICT DO NOTHING RETURNING event_id
      )
      INSERT INTO playback_events (received_at, event_id, type, placement_id, video_id, product_id, occurred_at, session_id, properties, ingest_key_id, batch_id)
      SELECT now(), i.event_id, i.type, i.placement_id, i.video_id, i.product_id, i.occurred_at, i.session_id, i.properties, i.ingest_key_id, ${rawBatch}::uuid
      FROM incoming i JOIN fresh f ON f.event_id = i.event_id
      RETURNING event_id`.execute(tx);
    const freshIds = new Set(fresh.map((r) => r.event_id));
    const toMatch = events.filter((e) => freshIds.has(e.id) && matchable(e)).map(toPayload);
    const outbox = [];
    for (let i = 0; i < toMatch.length; i += EVENTS_PER_BATCH) {
      const batchId = randomUUID();
      const chunk = toMatch.slice(i, i + EVENTS_PER_BATCH);
      batchIds.push(batchId);
      outbox.push(
        buildEvent(
          { type: PlaybackEventTypes.eventsAccepted, version: 2, subject: batchId, source: '/ingestion', data: { batch_id: batchId, events: chunk } },
          { correlationId, actor: 'ingestion' },
        ),
      );
    }
    if (outbox.length > 0) {
      await tx
        .insertInto('ingest_batches')
        .values(outbox.map((e, i) => ({ batch_id: batchIds[i] as string, events: (e.data as { events: unknown[] }).events.length })))
        .execute();
      await insertEvents(tx, outbox);
    }
    return freshIds;
  });
}
