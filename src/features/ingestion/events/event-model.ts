/** What ingestion returns and what it stores, pure shapes. */
import type { FieldError } from '../../../platform/errors.js';
import type { PlaybackType } from '../matching/matching-rules.js';

/** One event as the SDK sends it, after its shape was checked. */
export interface PlaybackEventInput {
  id: string;
  type: PlaybackType;
  placement_id: string;
  video_id: string;
  occurred_at: string;
  session_id?: string;
  properties?: Record<string, unknown>;
}

/** An event ready to be stored: the input plus what the request path resolved. */
export interface AcceptedEvent extends PlaybackEventInput {
  product_id: string;
  ingest_key_id: string | null;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: { index: number; errors: FieldError[] }[];
}
