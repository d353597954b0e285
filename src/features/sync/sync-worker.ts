/**
 * The sync worker (background worker `sync-worker`): claims pending sync requests (a
 * lease, so any number of processes share them and a crashed one's are taken over),
 * reads everything the requester sees in one repeatable-read transaction together with
 * the feed position it is consistent with, writes the snapshot to object storage
 * (`sync-snapshots/<id>.json`, the same key on a retry), then in one transaction marks
 * the request completed and emits `plugin.sync_completed` with where to fetch it.
 *
 * The snapshot holds every change up to its cursor and maybe a few after it (those
 * that committed during the read): following the feed from the cursor may repeat a
 * change, never miss one; a change's `version` tells the plugin which is newer.
 */
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { asBackgroundWork } from '../../platform/db/connect.js';
import type { Database } from '../../platform/db/schema.js';
import { buildEvent, insertEvents } from '../../platform/events/event-log.js';
import { IdlePoller, OutageLog } from '../../platform/logging/polling.js';
import type { ObjectStorage } from '../../platform/storage/object-storage.js';
import { SyncEventTypes } from './sync-events.js';
import { changeData, type SyncScope } from './sync-rules.js';
import { currentRows, encodeSyncCursor, settledPosition } from './sync-repository.js';

export interface SyncWorkerOptions {
  db: Kysely<Database>;
  storage: ObjectStorage;
  logger: Logger;
  /** Attempts before a request is marked failed (default 3). */
  maxAttempts?: number;
  /** How long a claimed request is held (default 120 s). */
  leaseMs?: number;
  pollMaxMs?: number;
}

interface Claimed {
  id: string;
  requested_by: string;
  sees_all: boolean;
  attempts: number;
  correlation_id: string | null;
}

export const snapshotKey = (id: string): string => `sync-snapshots/${id}.json`;
export const snapshotUrl = (id: string): string => `/v1/sync-requests/${id}/snapshot`;

export class SyncWorker {
  readonly #poller: IdlePoller;
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(private readonly options: SyncWorkerOptions) {
    this.#poller = new IdlePoller({ minMs: 10, maxMs: options.pollMaxMs ?? 500 });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = asBackgroundWork(() => this.#run());
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#poller.wake();
    await this.#loop;
  }

  wake(): void {
    this.#poller.wake();
  }

  /** Handles one pending request, if any; answers whether it found one. */
  async runOnce(): Promise<boolean> {
    const claimed = await this.#claim();
    if (!claimed) return false;
    const log = this.options.logger.child({ sync_request_id: claimed.id, attempt: claimed.attempts });
    try {
      await this.#snapshot(claimed);
    } catch (error) {
      const gaveUp = claimed.attempts >= (this.options.maxAttempts ?? 3);
      log.error({ err: error, gave_up: gaveUp }, 'writing a sync snapshot failed');
      await this.options.db
        .updateTable('sync_requests')
        .set({ lease_until: null, error: error instanceof Error ? error.message.slice(0, 500) : String(error), ...(gaveUp ? { status: 'failed' as const, completed_at: sql<Date>`NOW()` } : {}) })
        .where('id', '=', claimed.id)
        .execute();
    }
    return true;
  }

  async #run(): Promise<void> {
    const log = this.options.logger;
    const outage = new OutageLog({
      down: (error) => log.error({ err: error }, 'sync worker cannot claim requests; retrying'),
      up: (o) => log.info(o, 'sync worker claims requests again'),
    });
    while (this.#running) {
      try {
        const found = await this.runOnce();
        outage.succeeded();
        if (found) this.#poller.busy();
        else await this.#poller.idle();
      } catch (error) {
        outage.failed(error);
        if (this.#running) await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async #claim(): Promise<Claimed | undefined> {
    const leaseSeconds = (this.options.leaseMs ?? 120_000) / 1000;
    const { rows } = await sql<Claimed>`
      UPDATE sync_requests SET attempts = attempts + 1, lease_until = NOW() + make_interval(secs => ${leaseSeconds})
      WHERE id = (
        SELECT id FROM sync_requests
        WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < NOW())
        ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED
      )
      RETURNING id, requested_by, sees_all, attempts, correlation_id`.execute(this.options.db);
    return rows[0];
  }

  async #snapshot(request: Claimed): Promise<void> {
    const scope: SyncScope = request.sees_all ? { kind: 'all' } : { kind: 'owner', ownerId: request.requested_by };
    const { rows, position } = await this.options.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (tx) => ({ position: await settledPosition(tx), rows: await currentRows(tx, scope) }));
    const cursor = encodeSyncCursor(position);
    const items = [
      ...rows.videos.map((r) => ({ type: 'video' as const, id: String(r.id), version: Number(r.version), data: changeData('video', r) })),
      ...rows.placements.map((r) => ({ type: 'placement' as const, id: String(r.id), version: Number(r.version), data: changeData('placement', r) })),
      ...rows.products.map((r) => ({ type: 'product' as const, id: String(r.id), version: Number(r.version), data: changeData('product', r) })),
    ];
    const key = snapshotKey(request.id);
    await this.options.storage.put(key, JSON.stringify({ sync_request_id: request.id, cursor, generated_at: new Date().toISOString(), items }), { contentType: 'application/json' });
    await this.options.db.transaction().execute(async (tx) => {
      const done = await tx
        .updateTable('sync_requests')
        .set({ status: 'completed', object_key: key, cursor, changes_count: items.length, error: null, lease_until: null, completed_at: sql<Date>`NOW()` })
        .where('id', '=', request.id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) !== 1) return;
      const event = buildEvent(
        {
          type: SyncEventTypes.pluginSyncCompleted,
          subject: request.id,
          data: { sync_request_id: request.id, requested_by: request.requested_by, snapshot_url: snapshotUrl(request.id), object_key: key, cursor, items_count: items.length },
        },
        { correlationId: request.correlation_id ?? request.id, actor: 'system:sync-worker' },
      );
      await insertEvents(tx, [event]);
    });
    this.options.logger.info({ sync_request_id: request.id, items: items.length }, 'sync snapshot written');
  }
}
