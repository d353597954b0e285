/**
 * Video analysis (POST /v1/analyze): a video made from a URL has no duration until the
 * analyser has read it, so `videos.duration` may be NULL (the CHECK still holds for a
 * known one); `analysis_progress` (0–100) follows the stages; at most one analysis of
 * a URL runs per owner at a time (the second request gets the running video). The
 * transcript's WebVTT rendering is stored beside its JSON (`vtt_path`).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE videos ALTER COLUMN duration DROP NOT NULL;
    ALTER TABLE videos ADD COLUMN analysis_progress SMALLINT;
    ALTER TABLE videos ADD CONSTRAINT chk_analysis_progress CHECK (analysis_progress IS NULL OR analysis_progress BETWEEN 0 AND 100);
    CREATE UNIQUE INDEX uq_videos_running_analysis ON videos(owner_id, source_url)
      WHERE analysis_status IN ('queued', 'processing') AND deleted_at IS NULL;
    ALTER TABLE transcripts ADD COLUMN vtt_path TEXT;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE transcripts DROP COLUMN vtt_path;
    DROP INDEX uq_videos_running_analysis;
    ALTER TABLE videos DROP CONSTRAINT chk_analysis_progress;
    ALTER TABLE videos DROP COLUMN analysis_progress;
    UPDATE videos SET duration = 0.001 WHERE duration IS NULL;
    ALTER TABLE videos ALTER COLUMN duration SET NOT NULL;
  `.execute(db);
}
