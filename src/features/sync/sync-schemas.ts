/** Plugin sync: the JSON shapes. */
import { Type } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../catalog/index.js';
import type { SyncPage, SyncRequest as SyncRequestModel } from './sync-model.js';
import { snapshotUrl } from './sync-worker.js';

export const SyncQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'The `next_cursor` of the previous read, or a snapshot’s `cursor`; from the beginning when left out' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 500, description: 'Changes per page (at most 1000)' }),
  },
  { additionalProperties: false },
);

const Change = Type.Object(
  {
    type: Type.Enum(['video', 'placement', 'product']),
    id: Uuid,
    version: Type.Integer(),
    deleted: Type.Boolean({ description: 'The row is gone (or no longer visible to you): drop it' }),
    data: Nullable(Type.Record(Type.String(), Type.Unknown(), { description: 'The row after the change, as its GET shows it' })),
  },
  { additionalProperties: false },
);

export const SyncFeed = Type.Object(
  {
    changes: Type.Array(Change),
    next_cursor: Type.String({ description: 'Send it back as `cursor`: it survives restarts and never skips a change' }),
    has_more: Type.Boolean({ description: 'More changes are ready now: read again at once' }),
  },
  { additionalProperties: false },
);

export const SyncRequest = Type.Object(
  {
    id: Uuid,
    status: Type.Enum(['pending', 'completed', 'failed']),
    created_at: Timestamp,
    completed_at: Nullable(Timestamp),
    snapshot_url: Nullable(Type.String({ description: 'Where to GET the snapshot, once completed' })),
    cursor: Nullable(Type.String({ description: 'Follow GET /v1/sync from here after loading the snapshot' })),
    items_count: Nullable(Type.Integer()),
    error: Nullable(Type.String()),
  },
  { additionalProperties: false, description: 'A snapshot of everything you may sync, written in the background' },
);

export const NewSyncRequest = Type.Object({}, { additionalProperties: false, description: 'Nothing to send (an empty object, or no body)' });

export function syncFeedJson(page: SyncPage) {
  return { changes: page.changes, next_cursor: page.nextCursor, has_more: page.hasMore };
}

export function syncRequestJson(r: SyncRequestModel) {
  return {
    id: r.id,
    status: r.status,
    created_at: r.created_at.toISOString(),
    completed_at: r.completed_at ? new Date(r.completed_at).toISOString() : null,
    snapshot_url: r.status === 'completed' ? snapshotUrl(r.id) : null,
    cursor: r.cursor,
    items_count: r.changes_count,
    error: r.status === 'failed' ? r.error : null,
  };
}
