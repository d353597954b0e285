/**
 * Each claim of an idempotency key gets its own random id. An in-progress key whose
 * claim is older than the lease may be claimed again (its process is presumed
 * dead); the response is then stored only by the request still holding the claim,
 * so a late completion by the previous claimant changes nothing.
 *
 * The column is nullable: rows claimed before this migration have none, and code
 * that does not know the column keeps working (expand–contract).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE idempotency_keys ADD COLUMN claim_id UUID`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE idempotency_keys DROP COLUMN claim_id`.execute(db);
}
