/**
 * Row change notifications for the read caches of API processes: every update or
 * delete of a cached table sends `NOTIFY nedlia_row_changes, '<table>:<id>'` (a
 * truncate sends `'<table>:*'`). PostgreSQL delivers a notification when, and only
 * when, the writing transaction commits, to every listening session, whichever
 * process wrote: use cases, workers, or SQL typed by hand. Inserts need no
 * notification: a cache never holds a row that does not exist yet.
 *
 * Cached today: placements (GET /v1/placements/{id}).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION notify_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('nedlia_row_changes', TG_TABLE_NAME || ':*');
      ELSE
        PERFORM pg_notify('nedlia_row_changes', TG_TABLE_NAME || ':' || OLD.id::text);
      END IF;
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER placements_notify_change AFTER UPDATE OR DELETE ON placements
      FOR EACH ROW EXECUTE FUNCTION notify_row_change();
    CREATE TRIGGER placements_notify_truncate AFTER TRUNCATE ON placements
      FOR EACH STATEMENT EXECUTE FUNCTION notify_row_change();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER placements_notify_truncate ON placements;
    DROP TRIGGER placements_notify_change ON placements;
    DROP FUNCTION notify_row_change();
  `.execute(db);
}
