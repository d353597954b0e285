/** What a validation run is and returns (pure). */
export type RunStatus = 'pending' | 'running' | 'completed' | 'failed';
export type Severity = 'error' | 'warning' | 'info';

export type IssueCode =
  | 'outside_duration'
  | 'timing_conflict'
  | 'competing_products'
  | 'missing_product'
  | 'expired_campaign'
  | 'no_active_campaign'
  | 'position_out_of_frame'
  | 'too_short'
  | 'too_many_products';

export interface TimeRange {
  start_time: number;
  end_time: number;
}

export interface Issue {
  code: IssueCode;
  severity: Severity;
  placement_ids: string[];
  time_range: TimeRange;
  message: string;
}

export interface Summary {
  total_placements: number;
  valid_placements: number;
  issues_count: number;
  is_valid: boolean;
}

/** The limits a run checks against; a request may set them, else the defaults apply. */
export interface ValidationOptions {
  /** A placement shorter than this (seconds) is hard to notice. */
  min_duration: number;
  /** More products than this on screen at once crowd the frame. */
  max_concurrent_products: number;
}

export const DEFAULT_VALIDATION_OPTIONS: ValidationOptions = { min_duration: 1, max_concurrent_products: 3 };

export interface ValidationRun {
  id: string;
  videoId: string;
  status: RunStatus;
  startedAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
  issues: Issue[];
  summary: Summary | null;
  failureReason: string | null;
}
