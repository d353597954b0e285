/** The placement file the video SDK reads (pure): what it holds, version 1 of its format. */

export const PLACEMENT_FILE_FORMAT_VERSION = 1;

export interface FilePosition {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FilePlacement {
  id: string;
  start_time: number;
  end_time: number;
  position: FilePosition | null;
  product: { id: string; name: string; category: string | null; assets: unknown[] };
  /** The campaign the impressions and clicks count against. */
  campaign_id: string;
}

export interface PlacementFileDocument {
  $schema: string;
  format_version: typeof PLACEMENT_FILE_FORMAT_VERSION;
  video_id: string;
  duration: number;
  /** Grows by one with every file written for the video. */
  version: number;
  generated_at: string;
  /** How the SDK reports what viewers saw and clicked. */
  tracking: {
    events_url: string;
    key_header: string;
    event_types: readonly ['impression', 'click', 'view_start', 'view_end'];
  };
  placements: FilePlacement[];
}

/** The file of one video: both forms, with their entity tags. */
export interface ServedFile {
  videoId: string;
  version: number;
  json: Buffer;
  vtt: Buffer;
  jsonEtag: string;
  vttEtag: string;
  /** Epoch ms after which a campaign date makes the file stale (Infinity: never). */
  expiresAt: number;
}
