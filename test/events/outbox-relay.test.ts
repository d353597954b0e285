/**
 * The outbox relay publishes committed events in commit order, at least once, and only
 * one relay is active. The interleaving test needs two sessions, so it always runs on
 * PostgreSQL (PGlite is one session); the rest run on the selected engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { PostgresBus } from '../../src/platform/bus/postgres/postgres-bus.js';
import { insertEvents } from '../../src/platform/events/event-log.js';
import { OutboxRelay } from '../../src/platform/outbox/outbox-relay.js';
import { engine, openTestDatabase, type TestDatabase } from '../support/engine.js';
import { eventually, openPostgresDatabase, placementCreated } from './support.js';

/**
 * Relays until `total` events went out. On PostgreSQL any transaction still open in the
 * cluster (other test files run beside this one) holds the visibility horizon back, so
 * a step may legitimately publish nothing yet: poll, with a deadline.
 */
async function relayUntil(relay: OutboxRelay, total: number): Promise<number> {
  let sent = 0;
  await eventually(async () => {
    sent += Math.max(0, await relay.relayOnce());
    return sent >= total;
  }, 15_000, `${total} events relayed`);
  return sent;
}

let database: TestDatabase;
let postgres: TestDatabase;
beforeAll(async () => {
  [database, postgres] = await Promise.all([openTestDatabase(), openPostgresDatabase()]);
});
afterAll(async () => {
  await Promise.all([database?.close(), postgres?.close()]);
});

const published = async (db: TestDatabase['db']): Promise<string[]> =>
  (await db.selectFrom('bus_events').select('event_id').orderBy('seq').execute()).map((r) => r.event_id);

describe('outbox relay on PostgreSQL: commit order by transaction visibility', () => {
  it('does not skip an event whose transaction commits after a later-numbered one', async () => {
    const db = postgres.db;
    const bus = new PostgresBus(db);
    const relay = new OutboxRelay(db, bus, { name: 'interleaved' });
    const early = placementCreated();
    const late = placementCreated();

    // A takes the lower position, B the higher; B commits first, A after the relay ran.
    let releaseA!: () => void;
    const aMayCommit = new Promise<void>((r) => (releaseA = r));
    let aInserted!: () => void;
    const aHasInserted = new Promise<void>((r) => (aInserted = r));
    const txA = db.transaction().execute(async (tx) => {
      await insertEvents(tx, [early]);
      aInserted();
      await aMayCommit;
    });
    await aHasInserted;
    await db.transaction().execute((tx) => insertEvents(tx, [late]));
    const positions = await db.selectFrom('event_log').select(['id', 'position']).execute();
    expect(positions.find((p) => p.id === early.id)).toBeUndefined(); // not committed yet
    const latePosition = positions.find((p) => p.id === late.id)?.position ?? 0;

    // B is committed but A is still open: the relay must wait rather than pass A by.
    expect(await relay.relayOnce()).toBe(0);
    expect(await published(db)).toEqual([]);

    releaseA();
    await txA;
    const earlyPosition = (await db.selectFrom('event_log').select('position').where('id', '=', early.id).executeTakeFirstOrThrow()).position;
    expect(earlyPosition).toBeLessThan(latePosition);

    expect(await relayUntil(relay, 2)).toBe(2);
    // Commit order: A's transaction began first (lower tx id), so it goes first.
    expect(await published(db)).toEqual([early.id, late.id]);
    expect(await relay.relayOnce()).toBe(0);
  });

  it('never publishes the events of a rolled back transaction', async () => {
    const db = postgres.db;
    const relay = new OutboxRelay(db, new PostgresBus(db), { name: 'rollback' });
    const doomed = placementCreated();
    await expect(
      db.transaction().execute(async (tx) => {
        await insertEvents(tx, [doomed]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const kept = placementCreated();
    await db.transaction().execute((tx) => insertEvents(tx, [kept]));
    await eventually(async () => {
      await relay.relayOnce();
      return (await published(db)).includes(kept.id);
    }, 15_000, 'the committed event relayed');
    expect(await published(db)).not.toContain(doomed.id);
  });
});

describe(`outbox relay (${engine})`, () => {
  it('publishes again after a crash between publish and checkpoint (at least once)', async () => {
    const db = database.db;
    const bus = new PostgresBus(db);
    await db.deleteFrom('bus_events').execute();
    const events = [placementCreated(), placementCreated(), placementCreated()];
    await db.transaction().execute((tx) => insertEvents(tx, events));

    let crashes = 1;
    const crashing = new OutboxRelay(db, bus, {
      name: 'crash',
      leaseMs: 200,
      afterPublish: async () => {
        if (crashes-- > 0) throw new Error('killed between publish and checkpoint');
      },
    });
    await expect(relayUntil(crashing, 3)).rejects.toThrow('killed between publish and checkpoint');
    expect(await published(db)).toEqual(events.map((e) => e.id));

    // The same relay (or its successor after the lease) starts from the old checkpoint.
    expect(await relayUntil(crashing, 3)).toBe(3);
    expect(await published(db)).toEqual([...events, ...events].map((e) => e.id));
    expect(await crashing.relayOnce()).toBe(0);
    const checkpoint = await db.selectFrom('outbox_relay_checkpoints').selectAll().where('name', '=', 'crash').executeTakeFirstOrThrow();
    expect(checkpoint.relayed_count).toBe(3);
  });

  it('keeps one relay active; a stand-by takes over when the leader stops', async () => {
    const db = database.db;
    const bus = new PostgresBus(db);
    const first = new OutboxRelay(db, bus, { name: 'leader', leaseMs: 60_000 });
    const second = new OutboxRelay(db, bus, { name: 'leader', leaseMs: 60_000 });
    expect(await first.relayOnce()).toBeGreaterThanOrEqual(0);
    expect(first.isLeader).toBe(true);
    expect(await second.relayOnce()).toBe(-1);
    expect(second.isLeader).toBe(false);

    first.start();
    await first.stop(); // gives the lease up
    expect(await second.relayOnce()).toBeGreaterThanOrEqual(0);
    expect(second.isLeader).toBe(true);
    expect(await first.relayOnce()).toBe(-1);
  });

  it('relays in the background and reports its backlog', async () => {
    const db = database.db;
    const bus = new PostgresBus(db);
    const relay = new OutboxRelay(db, bus, { name: 'background', pollMaxMs: 20 });
    // Catch up with what other tests left, then measure.
    while ((await relay.relayOnce()) > 0);
    const event = placementCreated();
    await db.transaction().execute((tx) => insertEvents(tx, [event]));
    expect((await relay.backlog()).count).toBeGreaterThanOrEqual(1);
    relay.start();
    const deadline = Date.now() + 15_000;
    while ((await relay.backlog()).count > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await relay.stop();
    expect((await relay.backlog()).count).toBe(0);
    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM bus_events WHERE event_id = ${event.id}`.execute(db);
    expect(count.rows[0]?.n).toBeGreaterThanOrEqual(1);
  });
});
