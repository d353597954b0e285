/**
 * The sync feed's reads, and the sync requests.
 *
 * Commit order, as the outbox relay reads `event_log`: each `sync_changes` row carries
 * the id of the transaction that wrote it (`tx_id`), and a read returns only rows of
 * transactions older than the oldest one still running (`tx_id <
 * pg_snapshot_xmin(pg_current_snapshot())`). Those are settled, committed or rolled back,
 * so nothing can appear behind the cursor `(tx_id, position)` later: a transaction that
 * took an earlier position but commits after a later one is waited for, not passed by.
 */
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/schema.js';
import { DomainError } from '../../platform/errors.js';
import type { EntityType, SyncScope } from './sync-rules.js';
import type { SyncRequest } from './sync-model.js';

export interface FeedPosition {
  txId: string;
  position: number;
}

export const START: FeedPosition = { txId: '0', position: 0 };

export function encodeSyncCursor(p: FeedPosition): string {
  return Buffer.from(`s1:${p.txId}:${p.position}`).toString('base64url');
}

export function decodeSyncCursor(cursor: string): FeedPosition {
  const match = /^[A-Za-z0-9_-]{1,100}$/.test(cursor) ? /^s1:(\d{1,20}):(\d{1,20})$/.exec(Buffer.from(cursor, 'base64url').toString()) : null;
  if (!match) {
    throw new DomainError('invalid', 'REQUEST.INVALID_CURSOR', 'the cursor is not one this API returned: start again without it (or from a snapshot’s cursor)', [
      { path: '/query/cursor', message: 'is not a valid sync cursor' },
    ]);
  }
  return { txId: match[1] as string, position: Number(match[2]) };
}

export interface ChangeRow {
  tx_id: string;
  position: number;
  entity_type: EntityType;
  entity_id: string;
  version: number;
  deleted: boolean;
  data: Record<string, unknown> | null;
}

const visibleTo = (scope: SyncScope) =>
  scope.kind === 'all' ? sql`TRUE` : sql`(audience = 'creators' OR owner_id = ${scope.ownerId})`;

/** Up to `limit` settled changes after `after` that `scope` sees, in commit order. */
export async function readChanges(db: Executor, scope: SyncScope, after: FeedPosition, limit: number): Promise<ChangeRow[]> {
  const { rows } = await sql<ChangeRow>`
    SELECT tx_id::text AS tx_id, position, entity_type, entity_id::text AS entity_id, version, deleted, data
    FROM sync_changes
    WHERE (tx_id, position) > (${after.txId}::xid8, ${after.position}::bigint)
      AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
      AND ${visibleTo(scope)}
    ORDER BY tx_id, position
    LIMIT ${limit}`.execute(db);
  return rows.map((r) => ({ ...r, position: Number(r.position) }));
}

/** Which of these advertisers are active (creators follow only their products). */
export async function activeAdvertisers(db: Executor, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('advertisers').select('id').where('id', 'in', [...ids]).where('status', '=', 'active').where('deleted_at', 'is', null).execute();
  return new Set(rows.map((r) => r.id));
}

/** The last settled change: a snapshot read in the same transaction holds everything up to it. */
export async function settledPosition(db: Executor): Promise<FeedPosition> {
  const { rows } = await sql<{ tx_id: string; position: number }>`
    SELECT tx_id::text AS tx_id, position FROM sync_changes
    WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY tx_id DESC, position DESC LIMIT 1`.execute(db);
  const row = rows[0];
  return row ? { txId: row.tx_id, position: Number(row.position) } : START;
}

/** Everything `scope` sees now, for a snapshot. */
export async function currentRows(db: Executor, scope: SyncScope): Promise<{ videos: Record<string, unknown>[]; placements: Record<string, unknown>[]; products: Record<string, unknown>[] }> {
  const own = scope.kind === 'owner' ? scope.ownerId : undefined;
  const videos = await sql<{ row: Record<string, unknown> }>`
    SELECT to_jsonb(v) AS row FROM videos v WHERE v.deleted_at IS NULL ${own !== undefined ? sql`AND v.owner_id = ${own}` : sql``} ORDER BY v.created_at, v.id`.execute(db);
  const placements = await sql<{ row: Record<string, unknown> }>`
    SELECT to_jsonb(p) - 'video_owner_id' - 'product_advertiser_id' AS row FROM placements p JOIN videos v ON v.id = p.video_id
    WHERE p.deleted_at IS NULL ${own !== undefined ? sql`AND v.owner_id = ${own}` : sql``} ORDER BY p.created_at, p.id`.execute(db);
  const products = await sql<{ row: Record<string, unknown> }>`
    SELECT to_jsonb(p) AS row FROM products p JOIN advertisers a ON a.id = p.advertiser_id
    WHERE p.deleted_at IS NULL ${own !== undefined ? sql`AND a.status = 'active' AND a.deleted_at IS NULL` : sql``} ORDER BY p.created_at, p.id`.execute(db);
  return { videos: videos.rows.map((r) => r.row), placements: placements.rows.map((r) => r.row), products: products.rows.map((r) => r.row) };
}

const REQUEST_COLUMNS = ['id', 'requested_by', 'status', 'cursor', 'changes_count', 'object_key', 'error', 'created_at', 'completed_at'] as const;

export async function insertSyncRequest(db: Executor, values: { requested_by: string; sees_all: boolean; correlation_id: string }): Promise<SyncRequest> {
  return db.insertInto('sync_requests').values(values).returning(REQUEST_COLUMNS).executeTakeFirstOrThrow();
}

export async function findSyncRequest(db: Executor, id: string): Promise<SyncRequest | undefined> {
  return db.selectFrom('sync_requests').select(REQUEST_COLUMNS).where('id', '=', id).executeTakeFirst();
}
