/**
 * PGlite is a single Postgres session. These tests prove the driver lends it to one
 * transaction or query at a time: a rollback never takes an unrelated concurrent
 * write with it. The same tests run on PostgreSQL, where the pool gives the same result.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine, openTestDatabase, type TestDatabase } from '../support/engine.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

const names = async (prefix: string): Promise<string[]> =>
  (await database.db.selectFrom('advertisers').select('name').where('name', 'like', `${prefix}%`).orderBy('name').execute()).map(
    (r) => r.name,
  );

const insertAdvertiser = (db: TestDatabase['db'], name: string) =>
  db.insertInto('advertisers').values({ name, contact_email: 'x@y.test' }).execute();

describe(`concurrent use of one ${engine} database`, () => {
  it('a transaction that rolls back does not take a concurrent unrelated write with it', async () => {
    const db = database.db;
    let insideTransaction!: () => void;
    const started = new Promise<void>((resolve) => (insideTransaction = resolve));
    const rollingBack = db.transaction().execute(async (tx) => {
      await insertAdvertiser(tx, 'rb-doomed');
      insideTransaction();
      await sleep(100);
      throw new Error('roll back on purpose');
    });
    await started;
    // Issued while the transaction is open.
    const unrelated = insertAdvertiser(db, 'rb-survivor');
    await expect(rollingBack).rejects.toThrow('roll back on purpose');
    await unrelated;
    expect(await names('rb-')).toEqual(['rb-survivor']);
  });

  it('many interleaved transactions and autocommit writes each keep their own outcome', async () => {
    const db = database.db;
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const fail = i % 2 === 0;
      work.push(
        db
          .transaction()
          .execute(async (tx) => {
            await insertAdvertiser(tx, `mx-tx-${i}-a`);
            await sleep(5);
            await insertAdvertiser(tx, `mx-tx-${i}-b`);
            if (fail) throw new Error('rollback');
          })
          .catch(() => undefined),
      );
      work.push(insertAdvertiser(db, `mx-auto-${i}`));
    }
    await Promise.all(work);
    const rows = await names('mx-');
    expect(rows.filter((n) => n.startsWith('mx-auto-'))).toHaveLength(20);
    const committed = rows.filter((n) => n.startsWith('mx-tx-'));
    expect(committed).toHaveLength(20);
    for (const name of committed) expect(Number(name.split('-')[2]) % 2).toBe(1);
  });
});
