/**
 * The hourly purge of `consumer_inbox` (repositories/inbox-repository.ts) walks old
 * rows by `processed_at` (index of migration 0003) and keeps those whose event still
 * has a pending or recently replayed dead letter. That check looks dead letters up by
 * event id alone, which no index served (`uq_dead_letters_pending` starts with the
 * consumer and covers pending rows only); dead letters are never deleted, so without
 * this index every purge statement would read all of them.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX idx_dead_letters_event ON dead_letters(event_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX idx_dead_letters_event`.execute(db);
}
