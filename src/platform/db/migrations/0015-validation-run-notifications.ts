/**
 * Validation runs announce their committed updates and deletes on `nedlia_row_changes`
 * (the function of migration 0004), so the API's read cache of runs (GET
 * /v1/validation-runs/{id}, the poll of 202 + poll) drops a run when the validator moves
 * it: to `running`, and to `completed` in the transaction that emits
 * `video.validation_completed` (or to `failed`), whichever process does it.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TRIGGER validation_runs_notify_change AFTER UPDATE OR DELETE ON validation_runs
      FOR EACH ROW EXECUTE FUNCTION notify_row_change();
    CREATE TRIGGER validation_runs_notify_truncate AFTER TRUNCATE ON validation_runs
      FOR EACH STATEMENT EXECUTE FUNCTION notify_row_change();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER validation_runs_notify_truncate ON validation_runs;
    DROP TRIGGER validation_runs_notify_change ON validation_runs;
  `.execute(db);
}
