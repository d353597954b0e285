/**
 * Ingestion: `ingest_batches.payload` holds the impressions and clicks of a batch not yet
 * applied (what v2 of `playback.events_accepted` carried; v3 names the batch only), so one matcher
 * transaction can charge every waiting batch at once instead of one per delivery. NULL
 * for batches accepted before this column: those are charged from their delivery.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE ingest_batches ADD COLUMN payload JSONB`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE ingest_batches DROP COLUMN payload`.execute(db);
}
