/** Sync feed changes and sync requests as the use cases return them (pure). */
import type { EntityType } from './sync-rules.js';

export interface SyncChange {
  type: EntityType;
  id: string;
  version: number;
  deleted: boolean;
  /** The row after the change; null for a deletion. */
  data: Record<string, unknown> | null;
}

export interface SyncPage {
  changes: SyncChange[];
  /** Where the next read starts: after the last change returned (or where this one started, when none were). */
  nextCursor: string;
  /** Whether more changes are ready right now (read again at once). */
  hasMore: boolean;
}

export interface SyncRequest {
  id: string;
  requested_by: string;
  status: 'pending' | 'completed' | 'failed';
  cursor: string | null;
  changes_count: number | null;
  object_key: string | null;
  error: string | null;
  created_at: Date;
  completed_at: Date | null;
}
