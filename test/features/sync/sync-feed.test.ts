/**
 * Plugin sync over HTTP on the selected engine: the change feed (commit order, pages,
 * deletions, tenancy, a cursor kept across a restart of the app) and snapshots written
 * by the sync worker to object storage, announced by `plugin.sync_completed`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { buildApp } from '../../../src/entry/app.js';
import { loadConfig } from '../../../src/platform/config/config.js';
import { createObjectStorage } from '../../../src/platform/storage/create-storage.js';
import { SyncEventTypes, SyncWorker } from '../../../src/features/sync/index.js';
import { engine } from '../../support/engine.js';
import { eventually, silentLogger } from '../../events/support.js';
import { newProduct, openHarness, type Harness } from '../../http/catalog/support.js';

interface Change { type: string; id: string; version: number; deleted: boolean; data: Record<string, unknown> | null }

let h: Harness;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'nedlia-sync-'));
  h = await openHarness({ DATA_DIR: dataDir });
});
afterAll(async () => {
  await h?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/**
 * Waits until every committed change is readable: on PostgreSQL a transaction still open
 * anywhere in the cluster (other test files beside this one) holds the feed's horizon back.
 */
async function settled(): Promise<void> {
  await eventually(async () => {
    const { rows } = await sql<{ ok: boolean }>`SELECT COALESCE(max(tx_id) < pg_snapshot_xmin(pg_current_snapshot()), TRUE) AS ok FROM sync_changes`.execute(h.database.db);
    return rows[0]?.ok === true;
  }, 15_000, 'every committed change readable');
}

/** Reads the whole feed from `cursor` as `who`, `limit` a page, once every committed change is readable; the changes and the last cursor. */
async function readAll(who: 'creator' | 'otherCreator' | 'admin', cursor?: string, limit = 500): Promise<{ changes: Change[]; cursor: string; pages: number }> {
  await settled();
  const changes: Change[] = [];
  let pages = 0;
  for (;;) {
    const res = await h.call(who, { method: 'GET', url: `/v1/sync?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}` });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { changes: Change[]; next_cursor: string; has_more: boolean };
    pages++;
    changes.push(...body.changes);
    cursor = body.next_cursor;
    if (!body.has_more) return { changes, cursor, pages };
  }
}

describe(`plugin sync (${engine})`, () => {
  it('returns every change the creator may see, in commit order, with deletions, page after page', async () => {
    const start = (await readAll('creator')).cursor;
    const product = await newProduct(h);
    const video = (await h.call('creator', { method: 'POST', url: '/v1/videos', body: { title: 'Cut', duration: 60 } })).json();
    const placement = (await h.call('creator', {
      method: 'POST', url: '/v1/placements', body: { video_id: video.id, product_id: product.id, start_time: 1.5, end_time: 4 },
    })).json();
    const patched = await h.call('creator', { method: 'PATCH', url: `/v1/placements/${placement.id}`, headers: { 'if-match': '"1"' }, body: { description: 'mug' } });
    expect(patched.statusCode).toBe(200);
    expect((await h.call('creator', { method: 'DELETE', url: `/v1/placements/${placement.id}`, headers: { 'if-match': '"2"' } })).statusCode).toBe(204);
    const othersVideo = (await h.call('otherCreator', { method: 'POST', url: '/v1/videos', body: { title: 'Not yours', duration: 5 } })).json();

    const { changes, pages } = await readAll('creator', start, 2);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(changes.map((c) => [c.type, c.id, c.version, c.deleted])).toEqual([
      ['product', product.id, 1, false],
      ['video', video.id, 1, false],
      ['placement', placement.id, 1, false],
      ['placement', placement.id, 2, false],
      ['placement', placement.id, 3, true],
    ]);
    expect(changes[2]!.data).toMatchObject({ id: placement.id, video_id: video.id, product_id: product.id, start_time: 1.5, end_time: 4, status: 'active' });
    expect(changes[3]!.data).toMatchObject({ description: 'mug', version: 2 });
    expect(changes[4]!.data).toBeNull();
    expect(JSON.stringify(changes)).not.toContain(othersVideo.id);

    // The other creator sees its own video and the product (products are for every creator), not the first one's rows.
    const theirs = await readAll('otherCreator', start);
    expect(theirs.changes.map((c) => c.id)).toEqual([product.id, othersVideo.id]);
    // An admin sees everything.
    expect((await readAll('admin', start)).changes).toHaveLength(6);
  });

  it('keeps a cursor across a restart, refuses a forged one and advertisers', async () => {
    const { cursor } = await readAll('creator');
    const video = (await h.call('creator', { method: 'POST', url: '/v1/videos', body: { title: 'After restart', duration: 9 } })).json();
    // Another app over the same database (a restarted process): the cursor still means the same place.
    await settled();
    const again = await buildApp({ config: loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0', DATA_DIR: dataDir }), database: h.database, logger: pino({ level: 'silent' }), verifyToken: h.verifyToken });
    try {
      const res = await again.inject({ method: 'GET', url: `/v1/sync?cursor=${cursor}`, headers: { authorization: `Bearer ${h.tokens.creator}` } });
      expect(res.json().changes.map((c: Change) => c.id)).toEqual([video.id]);
    } finally {
      await again.close();
    }
    const forged = await h.call('creator', { method: 'GET', url: '/v1/sync?cursor=bm90LWEtY3Vyc29y' });
    expect(forged.statusCode).toBe(422);
    expect(forged.json()).toMatchObject({ code: 'REQUEST.INVALID_CURSOR', errors: [{ path: '/query/cursor' }] });
    expect((await h.call('advertiser', { method: 'GET', url: '/v1/sync' })).statusCode).toBe(403);
    expect((await h.call('creator', { method: 'GET', url: '/v1/sync?limit=5000' })).statusCode).toBe(422);
  });

  it('writes the snapshot a plugin asks for to storage and emits plugin.sync_completed with where to fetch it', async () => {
    const video = (await h.call('creator', { method: 'POST', url: '/v1/videos', body: { title: 'Snap', duration: 30 } })).json();
    const asked = await h.call('creator', { method: 'POST', url: '/v1/sync-requests', body: {} });
    expect(asked.statusCode).toBe(202);
    const request = asked.json();
    expect(asked.headers.location).toBe(`/v1/sync-requests/${request.id}`);
    expect(request.status).toBe('pending');
    const requested = await h.database.db.selectFrom('event_log').select(['data', 'created_by']).where('event_type', '=', SyncEventTypes.pluginSyncRequested).where('aggregate_id', '=', request.id).execute();
    expect(requested).toHaveLength(1);
    expect((await h.call('creator', { method: 'GET', url: `/v1/sync-requests/${request.id}/snapshot` })).statusCode).toBe(409);
    expect((await h.call('otherCreator', { method: 'GET', url: `/v1/sync-requests/${request.id}` })).statusCode).toBe(404);

    const storage = createObjectStorage(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }));
    const worker = new SyncWorker({ db: h.database.db, storage, logger: silentLogger(), pollMaxMs: 20 });
    worker.start();
    try {
      const done = await eventually(async () => {
        const body = (await h.call('creator', { method: 'GET', url: `/v1/sync-requests/${request.id}` })).json();
        return body.status === 'completed' && body;
      }, 15_000, 'the snapshot');
      expect(done.snapshot_url).toBe(`/v1/sync-requests/${request.id}/snapshot`);
      const snapshot = await h.call('creator', { method: 'GET', url: done.snapshot_url });
      expect(snapshot.statusCode).toBe(200);
      const body = snapshot.json() as { cursor: string; items: Change[] };
      expect(body.cursor).toBe(done.cursor);
      const ids = body.items.map((i) => i.id);
      expect(ids).toContain(video.id);
      // Only what the creator sees: no other creator's video.
      const theirs = await h.database.db.selectFrom('videos').select('id').where('owner_id', '=', h.ids.otherCreator).execute();
      for (const { id } of theirs) expect(ids).not.toContain(id);
      // Following the feed from the snapshot's cursor gives what changed after it.
      const later = (await h.call('creator', { method: 'POST', url: '/v1/videos', body: { title: 'Later', duration: 3 } })).json();
      expect((await readAll('creator', body.cursor)).changes.map((c) => c.id)).toContain(later.id);

      const [completed] = await h.database.db.selectFrom('event_log').select(['data', 'created_by']).where('event_type', '=', SyncEventTypes.pluginSyncCompleted).where('aggregate_id', '=', request.id).execute();
      expect(completed?.data).toMatchObject({ sync_request_id: request.id, snapshot_url: done.snapshot_url, cursor: body.cursor, items_count: body.items.length });
    } finally {
      await worker.stop();
      storage.close();
    }
  });
});
