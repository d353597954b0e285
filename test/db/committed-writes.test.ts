/**
 * The database driver tells this process when its own inserts into a table have
 * committed (committed-writes.ts), and the outbox relay wakes on it: an event committed
 * here is relayed without waiting for the relay's next poll.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresBus } from '../../src/platform/bus/postgres/postgres-bus.js';
import { onCommittedWrite } from '../../src/platform/db/committed-writes.js';
import { insertEvents } from '../../src/platform/events/event-log.js';
import { OutboxRelay } from '../../src/platform/outbox/outbox-relay.js';
import { openTestDatabase, type TestDatabase } from '../support/engine.js';
import { eventually, placementCreated } from '../events/support.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe('committed writes', () => {
  it('announces an insert into event_log after its transaction commits, never before and never for a rollback', async () => {
    const db = database.db;
    let calls = 0;
    const stop = onCommittedWrite(db, 'event_log', () => calls++);
    try {
      await db.transaction().execute(async (tx) => {
        await insertEvents(tx, [placementCreated()]);
        await tx.selectFrom('event_log').select('id').limit(1).execute();
        expect(calls).toBe(0);
      });
      expect(calls).toBe(1);

      await expect(
        db.transaction().execute(async (tx) => {
          await insertEvents(tx, [placementCreated()]);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(calls).toBe(1);

      // Outside a transaction the insert is its own commit.
      await insertEvents(db, [placementCreated()]);
      expect(calls).toBe(2);

      // Raw SQL is recognised by its text.
      await db.transaction().execute(async (tx) => {
        await sql`
          INSERT INTO event_log (id, event_type, aggregate_type, aggregate_id, data, metadata, created_at, created_by)
          VALUES (${randomUUID()}, 'com.nedlia.placement.created', 'placement', ${randomUUID()}, '{}'::jsonb, '{}'::jsonb, now(), 'test')`.execute(tx);
      });
      expect(calls).toBe(3);

      // Other tables, reads and updates say nothing.
      await db.transaction().execute(async (tx) => {
        await tx.insertInto('outbox_relay_checkpoints').values({ name: `unrelated-${randomUUID()}` }).execute();
        await tx.updateTable('event_log').set({ created_by: 'someone' }).where('id', '=', randomUUID()).execute();
      });
      expect(calls).toBe(3);
    } finally {
      stop();
    }
    await insertEvents(db, [placementCreated()]);
    expect(calls).toBe(3);
  });

  it('wakes the outbox relay of this process: an event committed here goes out long before the next poll', async () => {
    const db = database.db;
    const bus = new PostgresBus(db);
    // Idle polls a minute apart: only a wake publishes within the wait below.
    const relay = new OutboxRelay(db, bus, { name: `woken-${randomUUID()}`, pollMinMs: 60_000, pollMaxMs: 60_000 });
    const sent = new Set<string>();
    // Drain what other tests left, then let the relay settle into its idle wait.
    await eventually(async () => (await relay.relayOnce()) === 0, 15_000, 'an empty outbox');
    relay.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      // On PostgreSQL a transaction open elsewhere in the cluster may hide a commit from
      // the relay's read just after the wake; each new commit wakes it again.
      await eventually(async () => {
        const event = placementCreated();
        sent.add(event.id);
        await db.transaction().execute((tx) => insertEvents(tx, [event]));
        await new Promise((resolve) => setTimeout(resolve, 200));
        const rows = await db.selectFrom('bus_events').select('event_id').where('event_id', 'in', [...sent]).execute();
        return rows.length > 0;
      }, 20_000, 'an event relayed by a wake');
    } finally {
      await relay.stop();
    }
  });
});
