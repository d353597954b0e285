/**
 * The postgres bus on the selected engine: fan-out, back-fill of a late subscriber,
 * per-subject order, retry delay, lease expiry and fencing of a stale worker.
 * (The shared contract suite in test/bus/ runs the port's semantics on every adapter.)
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/platform/bus/event-bus.js';
import { PostgresBus } from '../../src/platform/bus/postgres/postgres-bus.js';
import { engine, openTestDatabase, type TestDatabase } from '../support/engine.js';
import { eventually, placementCreated } from './support.js';
import { EventTypes } from '../../src/features/catalog/index.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});
// A consumer subscribing for the first time is back-filled from the stream: start each test with an empty one.
beforeEach(async () => {
  await database.db.deleteFrom('bus_events').execute();
});

const consumerName = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;

describe(`postgres bus (${engine})`, () => {
  it('fans out to every consumer of a type and back-fills a consumer that subscribes later', async () => {
    const bus = new PostgresBus(database.db, { pollMaxMs: 20 });
    const [a, b, late] = [consumerName('a'), consumerName('b'), consumerName('late')];
    const got: Record<string, string[]> = { [a]: [], [b]: [], [late]: [] };
    const subscribe = (name: string) =>
      bus.subscribe({ consumer: name, types: [EventTypes.placementCreated], leaseMs: 5000, concurrency: 4 }, async (d) => {
        got[name]?.push(d.event.id);
        return { kind: 'ack' };
      });
    const subs = [await subscribe(a), await subscribe(b)];
    const events = Array.from({ length: 20 }, () => placementCreated());
    await bus.publish(events);
    subs.push(await subscribe(late));
    await eventually(async () => Object.values(got).every((ids) => ids.length >= 20), 10_000, 'all deliveries');
    for (const ids of Object.values(got)) expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    await Promise.all(subs.map((s) => s.close()));
    expect(await database.db.selectFrom('bus_queue').select('id').where('consumer', 'in', [a, b, late]).execute()).toEqual([]);
  });

  it('keeps per-subject order for one consumer even with many workers and retries', async () => {
    const bus = new PostgresBus(database.db, { pollMaxMs: 20 });
    const name = consumerName('ordered');
    const subjects = Array.from({ length: 5 }, () => randomUUID());
    const events = subjects.flatMap((s) => Array.from({ length: 8 }, () => placementCreated(s)));
    const seen = new Map<string, string[]>();
    let failedOnce = false;
    const handler = async (d: Delivery) => {
      // The first event of the first subject fails once: its followers must wait.
      if (!failedOnce && d.event.id === events[0]?.id) {
        failedOnce = true;
        return { kind: 'retry' as const, delayMs: 100 };
      }
      await sleep(Math.random() * 5);
      seen.set(d.event.subject, [...(seen.get(d.event.subject) ?? []), d.event.id]);
      return { kind: 'ack' as const };
    };
    const subs = [
      await bus.subscribe({ consumer: name, types: [EventTypes.placementCreated], leaseMs: 5000, concurrency: 4 }, handler),
      await bus.subscribe({ consumer: name, types: [EventTypes.placementCreated], leaseMs: 5000, concurrency: 4 }, handler),
    ];
    // Published in several batches, interleaving subjects.
    for (let i = 0; i < events.length; i += 7) await bus.publish(events.slice(i, i + 7));
    await eventually(async () => [...seen.values()].reduce((n, ids) => n + ids.length, 0) >= events.length, 15_000, 'deliveries');
    await Promise.all(subs.map((s) => s.close()));
    for (const subject of subjects) {
      expect(seen.get(subject)).toEqual(events.filter((e) => e.subject === subject).map((e) => e.id));
    }
  });

  it('redelivers after the retry delay with the attempt increased', async () => {
    const bus = new PostgresBus(database.db, { pollMaxMs: 20 });
    const name = consumerName('retry');
    const attempts: { attempt: number; at: number }[] = [];
    const sub = await bus.subscribe({ consumer: name, types: [EventTypes.placementCreated], leaseMs: 5000, concurrency: 1 }, async (d) => {
      attempts.push({ attempt: d.attempt, at: Date.now() });
      return d.attempt < 3 ? { kind: 'retry', delayMs: 300 } : { kind: 'ack' };
    });
    await bus.publish([placementCreated()]);
    await eventually(async () => attempts.length >= 3, 10_000, 'three attempts');
    await sub.close();
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(250);
    expect((attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0)).toBeGreaterThanOrEqual(250);
  });

  it('takes a delivery back from a worker that stalls past its lease, and ignores that worker\'s late answer', async () => {
    const name = consumerName('lease');
    // The stalled worker renews nothing (as if its event loop were blocked).
    const stalledBus = new PostgresBus(database.db, { heartbeatMs: 0, pollMaxMs: 20 });
    const healthyBus = new PostgresBus(database.db, { pollMaxMs: 20 });
    const types = [EventTypes.placementCreated];
    const event = placementCreated();
    let releaseStalled!: () => void;
    const stalledMayAnswer = new Promise<void>((r) => (releaseStalled = r));
    let releaseHealthy!: () => void;
    const healthyMayAnswer = new Promise<void>((r) => (releaseHealthy = r));
    const attempts: { worker: string; attempt: number }[] = [];

    const stalled = await stalledBus.subscribe({ consumer: name, types, leaseMs: 300, concurrency: 1 }, async (d) => {
      attempts.push({ worker: 'stalled', attempt: d.attempt });
      await stalledMayAnswer;
      return { kind: 'ack' };
    });
    await stalledBus.publish([event]);
    await eventually(async () => attempts.length === 1, 5000, 'first delivery');

    const healthy = await healthyBus.subscribe({ consumer: name, types, leaseMs: 5000, concurrency: 1 }, async (d) => {
      attempts.push({ worker: 'healthy', attempt: d.attempt });
      await healthyMayAnswer;
      return { kind: 'ack' };
    });
    await eventually(async () => attempts.length === 2, 5000, 'redelivery after the lease ran out');
    expect(attempts).toEqual([
      { worker: 'stalled', attempt: 1 },
      { worker: 'healthy', attempt: 2 },
    ]);

    // The stalled worker wakes up and acknowledges: fenced, the row stays with the healthy worker.
    releaseStalled();
    // close() returns once the deliveries in hand are settled: the late ack has been tried by then.
    await stalled.close();
    const row = await database.db.selectFrom('bus_queue').select(['attempt', 'lease_owner']).where('consumer', '=', name).executeTakeFirst();
    expect(row?.attempt).toBe(2);
    expect(attempts).toHaveLength(2);

    releaseHealthy();
    await healthy.close();
    expect(await database.db.selectFrom('bus_queue').select('id').where('consumer', '=', name).execute()).toEqual([]);
  }, 20_000);
});
