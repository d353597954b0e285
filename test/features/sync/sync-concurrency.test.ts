/**
 * The sync feed while writes commit concurrently with reads. Needs two sessions, so it
 * always runs on PostgreSQL (PGlite is one session), like the outbox relay's test.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSyncFeed } from '../../../src/features/sync/sync-use-cases.js';
import type { TestDatabase } from '../../support/engine.js';
import { eventually, openPostgresDatabase } from '../../events/support.js';

let postgres: TestDatabase;
beforeAll(async () => {
  postgres = await openPostgresDatabase();
  await postgres.db.insertInto('users').values({ id: 'writer' }).execute();
});
afterAll(async () => {
  await postgres?.close();
});

const admin = { userId: 'admin-sync', roles: ['admin' as const] };

const newVideo = (db: TestDatabase['db'], title: string) =>
  db.insertInto('videos').values({ title, duration: 1, owner_id: 'writer' }).returning('id').executeTakeFirstOrThrow();

describe('sync feed on PostgreSQL under concurrent commits', () => {
  it('waits for a transaction that took an earlier position and commits later, rather than passing it by', async () => {
    const db = postgres.db;
    const { nextCursor: start } = await eventually(async () => {
      const page = await readSyncFeed({ db }, admin, undefined, 1000);
      return !page.hasMore && page;
    }, 15_000, 'the feed drained');

    let releaseA!: () => void;
    const aMayCommit = new Promise<void>((r) => (releaseA = r));
    let aInserted!: (id: string) => void;
    const aHasInserted = new Promise<string>((r) => (aInserted = r));
    const txA = db.transaction().execute(async (tx) => {
      aInserted((await newVideo(tx, 'early')).id);
      await aMayCommit;
    });
    txA.catch(() => aInserted(''));
    const early = await aHasInserted;
    const late = (await newVideo(db, 'late')).id;

    // B committed, A is still open: the feed shows neither yet, and its cursor stays put.
    const during = await readSyncFeed({ db }, admin, start, 100);
    expect(during.changes).toEqual([]);
    expect(during.nextCursor).toBe(start);

    releaseA();
    await txA;
    const after = await eventually(async () => {
      const page = await readSyncFeed({ db }, admin, start, 100);
      return page.changes.length >= 2 && page;
    }, 15_000, 'both changes');
    expect(after.changes.map((c) => c.id)).toEqual([early, late]);
    expect((await readSyncFeed({ db }, admin, after.nextCursor, 100)).changes).toEqual([]);
  });

  it('skips and repeats nothing across pages while writers commit', async () => {
    const db = postgres.db;
    let cursor = (await eventually(async () => {
      const page = await readSyncFeed({ db }, admin, undefined, 1000);
      return !page.hasMore && page;
    }, 15_000, 'the feed drained')).nextCursor;

    const written: string[] = [];
    let writing = true;
    const writer = async (w: number) => {
      for (let i = 0; i < 25; i++) {
        // Some transactions hold their rows a while before committing, so commits overtake each other.
        const ids = await db.transaction().execute(async (tx) => {
          const made = [(await newVideo(tx, `w${w}-${i}-a`)).id];
          if (i % 3 === 0) await sleep(5 + ((w * 7 + i) % 11));
          if (i % 2 === 0) made.push((await newVideo(tx, `w${w}-${i}-b`)).id);
          return made;
        });
        written.push(...ids);
      }
    };
    const seen: string[] = [];
    const reader = (async () => {
      while (writing) {
        const page = await readSyncFeed({ db }, admin, cursor, 7);
        seen.push(...page.changes.map((c) => c.id));
        cursor = page.nextCursor;
        if (!page.hasMore) await sleep(2);
      }
    })();
    await Promise.all([0, 1, 2, 3].map(writer));
    writing = false;
    await reader;
    await eventually(async () => {
      const page = await readSyncFeed({ db }, admin, cursor, 50);
      seen.push(...page.changes.map((c) => c.id));
      cursor = page.nextCursor;
      return seen.length >= written.length && !page.hasMore;
    }, 15_000, 'every change read');

    expect(written).toHaveLength(4 * (25 + 13));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...written].sort());
  });
});
