/**
 * Plugin sync use cases: the change feed (`GET /v1/sync`), and snapshots the plugin asks
 * for (`POST /v1/sync-requests`), written by the sync worker (sync-worker.ts).
 */
import { DomainError, notFound } from '../../platform/errors.js';
import type { Actor } from '../../platform/auth/actor.js';
import type { CommandContext } from '../../platform/events/command-context.js';
import { appendEvents } from '../../platform/events/event-log.js';
import type { Executor } from '../../platform/db/schema.js';
import type { ObjectStorage, StoredObject } from '../../platform/storage/object-storage.js';
import { transact } from '../catalog/index.js';
import { SyncEventTypes } from './sync-events.js';
import type { SyncChange, SyncPage, SyncRequest } from './sync-model.js';
import { changeData, hiddenProduct, syncScopeOf, type SyncScope } from './sync-rules.js';
import { START, activeAdvertisers, decodeSyncCursor, encodeSyncCursor, findSyncRequest, insertSyncRequest, readChanges } from './sync-repository.js';

export interface SyncDeps {
  db: Executor;
}

function scopeFor(actor: Actor): SyncScope {
  const scope = syncScopeOf(actor);
  if (!scope) throw new DomainError('forbidden', 'ACCESS.FORBIDDEN', 'your role may not sync: plugin sync is for creators (and admins)');
  return scope;
}

/** Every change `actor` sees after `cursor` (from the beginning without one), in commit order, `limit` at most. */
export async function readSyncFeed(deps: SyncDeps, actor: Actor, cursor: string | undefined, limit: number): Promise<SyncPage> {
  const scope = scopeFor(actor);
  const after = cursor ? decodeSyncCursor(cursor) : START;
  const rows = await readChanges(deps.db, scope, after, limit + 1);
  const kept = rows.slice(0, limit);
  const productAdvertisers = scope.kind === 'owner'
    ? [...new Set(kept.filter((r) => r.entity_type === 'product' && r.data).map((r) => String(r.data!.advertiser_id)))]
    : [];
  const active = await activeAdvertisers(deps.db, productAdvertisers);
  const changes: SyncChange[] = kept.map((r) => {
    const hidden = r.entity_type === 'product' && r.data !== null && hiddenProduct(scope, active.has(String(r.data.advertiser_id)));
    const deleted = r.deleted || hidden;
    return { type: r.entity_type, id: r.entity_id, version: r.version, deleted, data: deleted || !r.data ? null : changeData(r.entity_type, r.data) };
  });
  const last = kept[kept.length - 1];
  return {
    changes,
    nextCursor: encodeSyncCursor(last ? { txId: last.tx_id, position: last.position } : after),
    hasMore: rows.length > limit,
  };
}

/** Records the request and emits `plugin.sync_requested`; the sync worker writes the snapshot. */
export async function requestSync({ db, context }: SyncDeps & { context: CommandContext }): Promise<SyncRequest> {
  const scope = scopeFor(context.actor);
  return transact(db, async (tx) => {
    const request = await insertSyncRequest(tx, { requested_by: context.actor.userId, sees_all: scope.kind === 'all', correlation_id: context.correlationId });
    await appendEvents(tx, context, [{ type: SyncEventTypes.pluginSyncRequested, subject: request.id, data: { requested_by: context.actor.userId } }]);
    return request;
  });
}

export async function getSyncRequest(deps: SyncDeps, actor: Actor, id: string): Promise<SyncRequest> {
  const scope = scopeFor(actor);
  const request = await findSyncRequest(deps.db, id);
  if (!request || (scope.kind === 'owner' && request.requested_by !== scope.ownerId)) throw notFound('sync request', id);
  return request;
}

/** The snapshot of a completed request; 409 while it is being written. */
export async function openSnapshot(deps: SyncDeps & { storage: ObjectStorage }, actor: Actor, id: string): Promise<StoredObject> {
  const request = await getSyncRequest(deps, actor, id);
  if (request.status !== 'completed' || !request.object_key) {
    throw new DomainError('conflict', 'SYNC.SNAPSHOT_NOT_READY', request.status === 'failed' ? `the snapshot failed: ${request.error ?? 'unknown error'}` : 'the snapshot is not written yet: poll the sync request until it is completed');
  }
  const object = await deps.storage.get(request.object_key);
  if (!object) throw new DomainError('not_found', 'SYNC.SNAPSHOT_GONE', 'the snapshot is no longer stored: ask for a new one');
  return object;
}
