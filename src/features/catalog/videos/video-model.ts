/** A video as the use cases return it (the repository's rows have this shape). */
export type VideoStatus = 'processing' | 'ready' | 'archived';
export type AnalysisStatus = 'queued' | 'processing' | 'completed' | 'failed';

export interface Video {
  id: string;
  owner_id: string | null;
  title: string;
  /** Seconds, as the database's DECIMAL text; null until an analysis has read it. */
  duration: string | null;
  source_url: string | null;
  status: VideoStatus;
  metadata: Record<string, unknown> | null;
  analysis_status: AnalysisStatus | null;
  failure_reason: string | null;
  /** 0–100 while an analysis runs. */
  analysis_progress: number | null;
  media_path: string | null;
  created_at: Date;
  updated_at: Date;
  created_by: string | null;
  deleted_at: Date | null;
  version: number;
}
