/** The analysis columns of `videos` and the `transcripts` table. */
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/schema.js';
import type { Segment } from './transcript-model.js';

const RUNNING = ['queued', 'processing'] as const;

export interface AnalysisVideoRow {
  id: string;
  owner_id: string | null;
  source_url: string | null;
  analysis_status: 'queued' | 'processing' | 'completed' | 'failed' | null;
  deleted_at: Date | null;
}

/** The caller's analysis of `url` that is still queued or processing. */
export async function findRunningAnalysis(db: Executor, ownerId: string, url: string): Promise<{ id: string } | undefined> {
  return db
    .selectFrom('videos')
    .select('id')
    .where('owner_id', '=', ownerId)
    .where('source_url', '=', url)
    .where('analysis_status', 'in', RUNNING)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/** A new queued video for `url`, or undefined when one of the owner's is already running (the unique index decides). */
export async function insertQueuedVideo(db: Executor, values: { ownerId: string; url: string; title: string }): Promise<{ id: string } | undefined> {
  return db
    .insertInto('videos')
    .values({
      owner_id: values.ownerId,
      title: values.title,
      duration: null,
      source_url: values.url,
      metadata: JSON.stringify({}),
      analysis_status: 'queued',
      analysis_progress: 0,
      failure_reason: null,
      media_path: null,
      created_by: values.ownerId,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
}

export async function findAnalysisVideo(db: Executor, id: string): Promise<AnalysisVideoRow | undefined> {
  return db.selectFrom('videos').select(['id', 'owner_id', 'source_url', 'analysis_status', 'deleted_at']).where('id', '=', id).executeTakeFirst();
}

/** Moves a running analysis on (never a finished or deleted one). */
export async function setProgress(db: Executor, id: string, progress: number): Promise<void> {
  await db
    .updateTable('videos')
    .set({ analysis_status: 'processing', analysis_progress: progress, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('analysis_status', 'in', RUNNING)
    .where('deleted_at', 'is', null)
    .execute();
}

/** Ends the analysis; answers whether a live, running video was there to end. */
export async function finishAnalysis(
  tx: Executor,
  id: string,
  outcome: { status: 'completed'; duration: number; mediaPath: string } | { status: 'failed'; reason: string },
): Promise<boolean> {
  const result = await tx
    .updateTable('videos')
    .set(
      outcome.status === 'completed'
        ? { analysis_status: 'completed', analysis_progress: 100, duration: outcome.duration, media_path: outcome.mediaPath, status: 'ready', failure_reason: null }
        : { analysis_status: 'failed', failure_reason: outcome.reason },
    )
    .set({ updated_at: sql<Date>`now()`, version: sql<number>`version + 1` })
    .where('id', '=', id)
    .where('analysis_status', 'in', RUNNING)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function upsertTranscript(
  tx: Executor,
  values: { videoId: string; language: string; content: string; segments: Segment[]; jsonPath: string; vttPath: string },
): Promise<void> {
  const row = { content: values.content, language: values.language, segments: JSON.stringify(values.segments), s3_path: values.jsonPath, vtt_path: values.vttPath };
  await tx
    .insertInto('transcripts')
    .values({ video_id: values.videoId, ...row })
    .onConflict((oc) => oc.column('video_id').doUpdateSet({ ...row, created_at: sql<Date>`now()` }))
    .execute();
}

export async function findTranscript(db: Executor, videoId: string) {
  return db.selectFrom('transcripts').select(['video_id', 'language', 'content', 'segments', 'created_at']).where('video_id', '=', videoId).executeTakeFirst();
}
