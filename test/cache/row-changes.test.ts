/**
 * Row change notifications (migration 0004) and the listener that feeds them to the
 * read caches, on the real engine: what announces a change, what does not, and what
 * happens when the listening connection is lost (PostgreSQL).
 */
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadCache } from '../../src/platform/cache/read-cache.js';
import { ROW_CHANGES_CHANNEL, listenForRowChanges, type RowChangeListener } from '../../src/platform/cache/row-change-listener.js';
import { engine, openTestDatabase, withServer, type TestDatabase } from '../support/engine.js';
import { product, video } from '../support/fixtures.js';

let database: TestDatabase;
let videoId: string;
let productId: string;
beforeAll(async () => {
  database = await openTestDatabase();
  videoId = await video(database.db);
  productId = await product(database.db);
});
afterAll(async () => {
  await database.close();
});

const newPlacement = async (): Promise<string> =>
  (
    await database.db
      .insertInto('placements')
      .values({ video_id: videoId, product_id: productId, start_time: 1, end_time: 2 })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;

/** Resolves when `check()` holds; fails after `ms`. */
async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Everything announced on the channel, in order. */
async function recordAnnouncements(): Promise<{ seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const listener = await database.listen(ROW_CHANGES_CHANNEL, (payload) => seen.push(payload), () => undefined);
  return { seen, close: () => listener.close() };
}

describe(`row change notifications on ${engine}`, () => {
  it('announce committed updates and deletes by row, truncates as a whole table, and nothing rolled back or inserted', async () => {
    const recorder = await recordAnnouncements();
    try {
      const [a, b] = [await newPlacement(), await newPlacement()];
      await database.db.updateTable('placements').set({ description: 'moved' }).where('id', '=', a).execute();
      await database.db
        .transaction()
        .execute(async (tx) => {
          await tx.updateTable('placements').set({ description: 'never' }).where('id', '=', b).execute();
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await database.db.deleteFrom('placements').where('id', '=', b).execute();
      await eventually(() => recorder.seen.length >= 2, 'two announcements arrived');
      // Inserts say nothing; the rolled-back update of b never reached the channel.
      expect(recorder.seen).toEqual([`placements:${a}`, `placements:${b}`]);

      await sql`TRUNCATE placements`.execute(database.db);
      await eventually(() => recorder.seen.length >= 3, 'the truncate was announced');
      expect(recorder.seen[2]).toBe('placements:*');
    } finally {
      await recorder.close();
    }
  });

  it('keep reaching one listener after another on the same database closes', async () => {
    const [staying, leaving] = [await recordAnnouncements(), await recordAnnouncements()];
    try {
      await leaving.close();
      const id = await newPlacement();
      await database.db.updateTable('placements').set({ description: 'after close' }).where('id', '=', id).execute();
      await eventually(() => staying.seen.includes(`placements:${id}`), 'the remaining listener heard the change');
      expect(leaving.seen).not.toContain(`placements:${id}`);
    } finally {
      await staying.close();
    }
  });

  it('drop the changed rows from a live cache, and clear it on a truncate', async () => {
    const cache = new ReadCache<{ id: string }>({ maxEntries: 100, ttlMs: 60_000 });
    const listener = await listenForRowChanges(database, { caches: { placements: cache }, logger: pino({ level: 'silent' }) });
    try {
      expect(cache.live).toBe(true);
      const [a, b] = [await newPlacement(), await newPlacement()];
      for (const id of [a, b]) await cache.read(id, async () => ({ id }));
      expect(cache.size).toBe(2);
      await database.db.updateTable('placements').set({ status: 'archived' }).where('id', '=', a).execute();
      await eventually(() => cache.size === 1, 'the changed row was dropped');
      // b is still served from the cache: the loader is not called.
      expect(await cache.read(b, async () => ({ id: 'loaded' }))).toEqual({ id: b });

      await sql`TRUNCATE placements`.execute(database.db);
      await eventually(() => cache.size === 0, 'the truncate cleared the cache');
    } finally {
      await listener.close();
    }
    expect(cache.live).toBe(false);
  });

  it.runIf(engine === 'postgres')('turn the caches off while the listening connection is lost, and back on when it is restored (PostgreSQL)', async () => {
    const cache = new ReadCache<{ id: string }>({ maxEntries: 100, ttlMs: 60_000 });
    let listener: RowChangeListener | undefined;
    try {
      listener = await listenForRowChanges(database, {
        caches: { placements: cache },
        logger: pino({ level: 'silent' }),
        retry: { minMs: 200, maxMs: 200 },
      });
      const id = await newPlacement();
      await cache.read(id, async () => ({ id }));
      expect(cache.size).toBe(1);

      const databaseName = new URL(database.url!).pathname.slice(1);
      const killed = await withServer(async (client) =>
        (
          await client.query(
            `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'`,
            [databaseName],
          )
        ).rows.length,
      );
      expect(killed).toBe(1);
      await eventually(() => !cache.live, 'the cache went off');
      expect(cache.size).toBe(0);
      // Off: a read goes to the database and is not kept.
      await cache.read(id, async () => ({ id }));
      expect(cache.size).toBe(0);

      await eventually(() => cache.live, 'the listener reconnected');
      await cache.read(id, async () => ({ id }));
      expect(cache.size).toBe(1);
      await database.db.updateTable('placements').set({ status: 'archived' }).where('id', '=', id).execute();
      await eventually(() => cache.size === 0, 'changes are announced again after the reconnect');
    } finally {
      await listener?.close();
    }
  });
});
