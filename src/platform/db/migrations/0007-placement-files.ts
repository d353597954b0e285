/**
 * Placement files and validation runs (features/placement-files, features/validation).
 *
 * - `placement_file_requests`: per video, how often a change asked for a new file
 *   (`requested_seq`) and up to which request the current file reflects
 *   (`generated_seq`); the generator coalesces a burst of changes into few files.
 * - `placement_files`: the file the SDK is served per video: its version, the
 *   storage keys of its JSON and WebVTT forms and their ETags. Updates and deletes
 *   announce `placement_files:<video_id>` on `nedlia_row_changes` (as migration 0004
 *   does for placements), so the API's in-memory copies are dropped in every process.
 * - Soft-deleting a video or a product announces `placements:*`: the placement read
 *   caches drop every row, since the placements of that video or product are hidden now.
 * - `validation_runs.failure_reason` (expand only): why a run failed.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE placement_file_requests (
      video_id UUID PRIMARY KEY REFERENCES videos(id),
      requested_seq BIGINT NOT NULL DEFAULT 0,
      generated_seq BIGINT NOT NULL DEFAULT 0,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    );

    CREATE TABLE placement_files (
      video_id UUID PRIMARY KEY REFERENCES videos(id),
      version INTEGER NOT NULL,
      content_hash TEXT NOT NULL,
      json_key TEXT NOT NULL,
      vtt_key TEXT NOT NULL,
      json_etag TEXT NOT NULL,
      vtt_etag TEXT NOT NULL,
      file_url TEXT NOT NULL,
      placements_count INTEGER NOT NULL,
      expires_at TIMESTAMPTZ,
      generated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      CONSTRAINT chk_placement_file_version CHECK (version > 0)
    );

    CREATE FUNCTION notify_placement_file_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('nedlia_row_changes', 'placement_files:' || OLD.video_id::text);
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER placement_files_notify_change AFTER UPDATE OR DELETE ON placement_files
      FOR EACH ROW EXECUTE FUNCTION notify_placement_file_change();

    CREATE FUNCTION notify_placements_hidden() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('nedlia_row_changes', 'placements:*');
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER videos_notify_placements_hidden AFTER UPDATE OF deleted_at ON videos
      FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
      EXECUTE FUNCTION notify_placements_hidden();
    CREATE TRIGGER products_notify_placements_hidden AFTER UPDATE OF deleted_at ON products
      FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
      EXECUTE FUNCTION notify_placements_hidden();

    ALTER TABLE validation_runs ADD COLUMN failure_reason TEXT;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE validation_runs DROP COLUMN failure_reason;
    DROP TRIGGER products_notify_placements_hidden ON products;
    DROP TRIGGER videos_notify_placements_hidden ON videos;
    DROP FUNCTION notify_placements_hidden();
    DROP TRIGGER placement_files_notify_change ON placement_files;
    DROP FUNCTION notify_placement_file_change();
    DROP TABLE placement_files;
    DROP TABLE placement_file_requests;
  `.execute(db);
}
