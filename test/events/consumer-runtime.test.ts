/**
 * The consumer runtime end to end on the selected engine: command transaction →
 * outbox → relay → postgres bus → consumer. Effects happen once per event, failures
 * retry with backoff and end in the dead letters, invalid events go there at once,
 * v1 events are upcast, and logs and trace context follow the event.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventTypes } from '../../src/features/catalog/index.js';
import type { CloudEvent } from '../../src/platform/events/cloud-event.js';
import { PostgresBus } from '../../src/platform/bus/postgres/postgres-bus.js';
import type { Consumer } from '../../src/platform/consumers/consumer.js';
import { ConsumerRuntime } from '../../src/platform/consumers/consumer-runtime.js';
import { placementDetailsProjector } from '../../src/features/catalog/placements/placement-details-projector.js';
import { appendEvents, buildEvent, insertEvents } from '../../src/platform/events/event-log.js';
import { insertPlacement } from '../../src/features/catalog/placements/placement-repository.js';
import { Metrics } from '../../src/platform/metrics/metrics.js';
import { OutboxRelay } from '../../src/platform/outbox/outbox-relay.js';
import { engine, openTestDatabase, type TestDatabase } from '../support/engine.js';
import { product, video } from '../support/fixtures.js';
import { capturingLogger, eventually, placementCreated, silentLogger } from './support.js';

let database: TestDatabase;
let relay: OutboxRelay;
let bus: PostgresBus;
beforeAll(async () => {
  database = await openTestDatabase();
  bus = new PostgresBus(database.db, { pollMaxMs: 20 });
  relay = new OutboxRelay(database.db, bus, { pollMaxMs: 20 });
  relay.start();
});
afterAll(async () => {
  await relay?.stop();
  await bus?.close();
  await database?.close();
});

const admin = { userId: 'admin-1', roles: ['admin' as const] };
const fast = { baseDelayMs: 20, maxDelayMs: 100 };

describe(`consumer runtime (${engine})`, () => {
  it('keeps placement_details current from created, updated (v1 and v2) and deleted events', async () => {
    const db = database.db;
    const { logger, lines } = capturingLogger();
    const runtime = new ConsumerRuntime({ db, bus, logger, retry: fast });
    await runtime.start([placementDetailsProjector]);
    const videoId = await video(db);
    const productId = await product(db);
    const correlationId = randomUUID();
    const ctx = { actor: admin, correlationId, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

    // A command: the row and its event in one transaction.
    const placement = await db.transaction().execute(async (tx) => {
      const p = await insertPlacement(tx, { videoId, productId, startTime: 5, endTime: 10 });
      await appendEvents(tx, ctx, [
        { type: EventTypes.placementCreated, subject: p.id, data: { placement_id: p.id, video_id: videoId, product_id: productId, time_range: { start_time: 5, end_time: 10 } } },
      ]);
      return p;
    });
    const details = () => db.selectFrom('placement_details').selectAll().where('placement_id', '=', placement.id).executeTakeFirst();
    await eventually(async () => (await details())?.version === 1, 10_000, 'created projected');
    expect(await details()).toMatchObject({ video_id: videoId, product_id: productId, start_time: '5.000', end_time: '10.000', deleted: false });

    // An old producer still writes v1 (changes only): the runtime upcasts it to v2.
    await db.updateTable('placements').set({ start_time: 6, end_time: 12, version: 2 }).where('id', '=', placement.id).execute();
    await db.transaction().execute((tx) =>
      appendEvents(tx, ctx, [
        { type: EventTypes.placementUpdated, version: 1, subject: placement.id, data: { placement_id: placement.id, changes: { end_time: 12, start_time: 6 }, previous_version: 1, new_version: 2 } },
      ]),
    );
    await eventually(async () => (await details())?.version === 2, 10_000, 'v1 update projected');
    expect(await details()).toMatchObject({ start_time: '6.000', end_time: '12.000' });

    // The current producer writes v2.
    await db.transaction().execute((tx) =>
      appendEvents(tx, ctx, [
        {
          type: EventTypes.placementUpdated, version: 2, subject: placement.id,
          data: { placement_id: placement.id, video_id: videoId, changes: { end_time: 15 }, previous_version: 2, new_version: 3, time_range: { start_time: 6, end_time: 15 } },
        },
      ]),
    );
    await eventually(async () => (await details())?.version === 3, 10_000, 'v2 update projected');
    expect((await details())?.end_time).toBe('15.000');

    await db.transaction().execute((tx) =>
      appendEvents(tx, ctx, [{ type: EventTypes.placementDeleted, subject: placement.id, data: { placement_id: placement.id, video_id: videoId, version: 4 } }]),
    );
    await eventually(async () => (await details())?.deleted === true, 10_000, 'delete projected');
    await runtime.stop();

    // Every line logged for these events carries the request's correlation id and trace id.
    const handled = lines.filter((l) => l.msg === 'event handled' && l.event_id !== undefined && l.correlation_id === correlationId);
    expect(handled).toHaveLength(4);
    for (const line of handled) expect(line.trace_id).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('projects placement_details only forward: a late created or older update changes nothing', async () => {
    const db = database.db;
    const [videoId, productId, id] = [await video(db), await product(db), randomUUID()];
    const context = { logger: silentLogger(), attempt: 1, emit: async () => [] };
    const project = (type: string, version: number, data: Record<string, unknown>) =>
      placementDetailsProjector.handle(buildEvent({ type, version, subject: id, data }, { actor: admin.userId, correlationId: randomUUID() }), db, context);
    const updated = (newVersion: number, end: number) =>
      project(EventTypes.placementUpdated, 2, {
        placement_id: id, video_id: videoId, changes: { end_time: end }, previous_version: newVersion - 1, new_version: newVersion, time_range: { start_time: 1, end_time: end },
      });
    const details = () => db.selectFrom('placement_details').selectAll().where('placement_id', '=', id).executeTakeFirstOrThrow();

    // The update to version 3 arrives first, then its created event and an older update.
    await updated(3, 30);
    await project(EventTypes.placementCreated, 1, { placement_id: id, video_id: videoId, product_id: productId, time_range: { start_time: 1, end_time: 10 } });
    await updated(2, 20);
    expect(await details()).toMatchObject({ version: 3, end_time: '30.000' });
    await updated(4, 40);
    expect(await details()).toMatchObject({ version: 4, end_time: '40.000' });
  });

  it('applies a duplicate delivery once (inbox)', async () => {
    const db = database.db;
    const effects: string[] = [];
    const consumer: Consumer = {
      name: `dedup-${randomUUID().slice(0, 8)}`,
      types: [EventTypes.placementCreated],
      async handle(event, tx) {
        effects.push(event.id);
        await tx.insertInto('users').values({ id: `effect-${event.id}`, email: null }).execute();
      },
    };
    const runtime = new ConsumerRuntime({ db, bus, logger: silentLogger(), retry: fast });
    const event = placementCreated();
    const first = await runtime.handleDelivery(consumer, { event, attempt: 1 });
    const again = await runtime.handleDelivery(consumer, { event, attempt: 2 });
    expect([first, again]).toEqual([{ kind: 'ack' }, { kind: 'ack' }]);
    expect(effects).toEqual([event.id]);
    const rows = await db.selectFrom('users').select('id').where('id', '=', `effect-${event.id}`).execute();
    expect(rows).toHaveLength(1);
  });

  it('retries with growing delays, then dead-letters with the error, attempts and timestamps; replay processes it', async () => {
    const db = database.db;
    const metrics = new Metrics();
    let failing = true;
    const event = placementCreated();
    const watched = event.id;
    const attempts: { attempt: number; at: number }[] = [];
    const consumer: Consumer = {
      name: `flaky-${randomUUID().slice(0, 8)}`,
      types: [EventTypes.placementCreated],
      maxAttempts: 4,
      leaseMs: 5000,
      async handle(event, tx, { attempt }) {
        // A new consumer is back-filled with older events too: watch only this test's event.
        if (event.id !== watched) return;
        attempts.push({ attempt, at: Date.now() });
        if (failing) throw new Error('downstream is down');
        await tx.insertInto('users').values({ id: `replayed-${event.id}`, email: null }).execute();
      },
    };
    const runtime = new ConsumerRuntime({ db, bus, logger: silentLogger(), metrics, retry: { baseDelayMs: 100, maxDelayMs: 1000 } });
    await runtime.start([consumer]);
    await db.transaction().execute((tx) => insertEvents(tx, [event]));
    const dead = await eventually(
      () => db.selectFrom('dead_letters').selectAll().where('consumer', '=', consumer.name).where('event_id', '=', event.id).executeTakeFirst(),
      15_000,
      'dead letter',
    );
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    // Equal jitter: the gap before attempt n+1 is between half and all of 100 ms × 2^(n-1).
    const gaps = attempts.slice(1).map((a, i) => a.at - (attempts[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[2]).toBeGreaterThanOrEqual(190);
    expect(dead).toMatchObject({ event_id: event.id, event_type: event.type, attempts: 4, status: 'pending', error: 'Error: downstream is down' });
    expect(dead.first_attempt_at.getTime()).toBeLessThan(dead.last_attempt_at.getTime());
    expect((dead.event as CloudEvent).id).toBe(event.id);
    const counters = await metrics.registry.getSingleMetricAsString('nedlia_consumer_dead_lettered_total');
    expect(counters).toContain(`consumer="${consumer.name}"} 1`);
    expect(await metrics.registry.getSingleMetricAsString('nedlia_consumer_retried_total')).toContain(`consumer="${consumer.name}"} 3`);

    // Fixed: an admin replays it and the consumer processes it.
    failing = false;
    const { replayDeadLetter } = await import('../../src/features/operations/dead-letter-use-cases.js');
    await replayDeadLetter({ db, bus }, admin, dead.id);
    await eventually(
      () => db.selectFrom('users').select('id').where('id', '=', `replayed-${event.id}`).executeTakeFirst(),
      10_000,
      'replayed effect',
    );
    expect((await db.selectFrom('dead_letters').select('status').where('id', '=', dead.id).executeTakeFirstOrThrow()).status).toBe('replayed');
    await runtime.stop();
  });

  it('sends an invalid event straight to the dead letters with the reason', async () => {
    const db = database.db;
    const consumer: Consumer = { name: `strict-${randomUUID().slice(0, 8)}`, types: [EventTypes.placementCreated], async handle() {} };
    const runtime = new ConsumerRuntime({ db, bus, logger: silentLogger() });
    const event = { ...placementCreated(), data: { placement_id: 'not-a-uuid' } };
    expect(await runtime.handleDelivery(consumer, { event, attempt: 1 })).toEqual({ kind: 'ack' });
    const dead = await db.selectFrom('dead_letters').selectAll().where('consumer', '=', consumer.name).executeTakeFirstOrThrow();
    expect(dead.attempts).toBe(1);
    expect(dead.error).toMatch(/^invalid event: \/data/);
    expect(await db.selectFrom('consumer_inbox').select('event_id').where('consumer', '=', consumer.name).execute()).toEqual([]);
  });

  it('carries correlation id and trace context into the events a consumer emits', async () => {
    const db = database.db;
    const validationRunId = randomUUID();
    const consumer: Consumer = {
      name: `emitter-${randomUUID().slice(0, 8)}`,
      types: [EventTypes.placementCreated],
      async handle(event, _tx, { emit }) {
        const data = event.data as { video_id: string };
        await emit([{ type: EventTypes.videoValidationRequested, subject: data.video_id, data: { video_id: data.video_id, validation_run_id: validationRunId } }]);
      },
    };
    const runtime = new ConsumerRuntime({ db, bus, logger: silentLogger() });
    const source = buildEvent(
      { type: EventTypes.placementCreated, subject: randomUUID(), data: { placement_id: randomUUID(), video_id: randomUUID(), product_id: randomUUID(), time_range: { start_time: 0, end_time: 1 } } },
      { correlationId: 'req-42', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    );
    await runtime.handleDelivery(consumer, { event: source, attempt: 1 });
    const emitted = await db.selectFrom('event_log').selectAll().where('event_type', '=', EventTypes.videoValidationRequested).where('created_by', '=', `system:${consumer.name}`).executeTakeFirstOrThrow();
    expect(emitted.metadata).toMatchObject({ correlationid: 'req-42' });
    expect(String(emitted.metadata?.traceparent)).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  it('a worker paused past its lease cannot apply the event a second time', async () => {
    const db = database.db;
    let effects = 0;
    let stalledWoke = false;
    const consumer: Consumer = {
      name: `paused-${randomUUID().slice(0, 8)}`,
      types: [EventTypes.placementCreated],
      leaseMs: 300,
      concurrency: 1,
      async handle(event, tx, { attempt }) {
        await tx.insertInto('users').values({ id: `paused-${event.id}-${attempt}`, email: null }).execute();
        if (attempt === 1) {
          await new Promise((r) => setTimeout(r, 1200)); // stalls inside its transaction, past its lease
          stalledWoke = true;
        }
        effects++;
      },
    };
    const stalledBus = new PostgresBus(db, { heartbeatMs: 0, pollMaxMs: 20 });
    const stalled = new ConsumerRuntime({ db, bus: stalledBus, logger: silentLogger() });
    const healthy = new ConsumerRuntime({ db, bus: new PostgresBus(db, { pollMaxMs: 20 }), logger: silentLogger() });
    await db.deleteFrom('bus_events').execute();
    await stalled.start([consumer]);
    await healthy.start([consumer]);
    const event = placementCreated();
    await bus.publish([event]);
    await eventually(async () => effects >= 1, 10_000, 'an effect');
    // The stalled worker wakes and tries to commit; stop() then waits for what it has in hand.
    await eventually(async () => stalledWoke, 10_000, 'the stalled worker waking');
    await Promise.all([stalled.stop(), healthy.stop()]);
    const inbox = await db.selectFrom('consumer_inbox').select('event_id').where('consumer', '=', consumer.name).execute();
    expect(inbox).toEqual([{ event_id: event.id }]);
    const written = await db.selectFrom('users').select('id').where('id', 'like', `paused-${event.id}-%`).execute();
    expect(written).toHaveLength(1);
    expect(await db.selectFrom('bus_queue').select('id').where('consumer', '=', consumer.name).execute()).toEqual([]);
  }, 20_000);
});
