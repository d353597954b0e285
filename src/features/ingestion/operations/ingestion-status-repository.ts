/** What `GET /v1/admin/ingestion` and `/metrics` report, and the hourly housekeeping. */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../platform/db/schema.js';
import { listPartitionsOf } from '../../../platform/db/partitions.js';

export interface IngestionLag {
  consumer: string;
  pendingBatches: number;
  pendingEvents: number;
  oldestUnappliedAt: Date | null;
  lagSeconds: number;
}

/** Accepted batches the matcher has not applied: how many and how old the oldest is. */
export async function matcherLag(db: Kysely<Database>, consumer: string): Promise<IngestionLag> {
  const { rows: [row] } = await sql<{ batches: number | string; events: number | string | null; oldest: Date | null; age: number | string | null }>`
    SELECT count(*) AS batches, sum(events) AS events, min(accepted_at) AS oldest,
           extract(epoch from now() - min(accepted_at)) AS age
    FROM ingest_batches`.execute(db);
  return {
    consumer,
    pendingBatches: Number(row?.batches ?? 0),
    pendingEvents: Number(row?.events ?? 0),
    oldestUnappliedAt: row?.oldest ? new Date(row.oldest) : null,
    lagSeconds: row?.age === null || row?.age === undefined ? 0 : Math.max(0, Number(row.age)),
  };
}

/** Names of the raw tables' partitions, in name order (each table's oldest first). */
export async function listPartitions(db: Kysely<Database>): Promise<{ table: string; name: string }[]> {
  const out: { table: string; name: string }[] = [];
  for (const table of ['playback_charges', 'playback_events']) {
    for (const name of await listPartitionsOf(db, table)) out.push({ table, name });
  }
  return out;
}

export async function countDedupIds(db: Kysely<Database>): Promise<number> {
  const { rows: [row] } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ingest_event_ids`.execute(db);
  return Number(row?.n ?? 0);
}
