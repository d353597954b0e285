/**
 * Idempotency keys of POST requests, per caller. A row is claimed (status NULL)
 * before the command runs and completed with the response it produced, which is
 * replayed for 24 h; a second request while the first is still running sees the
 * claim and gets 409.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE idempotency_keys (
      caller TEXT NOT NULL,
      key TEXT NOT NULL,
      request_hash TEXT NOT NULL,
      status INTEGER,
      response_headers JSONB,
      response_body TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      expires_at TIMESTAMPTZ NOT NULL,
      PRIMARY KEY (caller, key)
    );
    CREATE INDEX idx_idempotency_keys_expires ON idempotency_keys(expires_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE idempotency_keys`.execute(db);
}
