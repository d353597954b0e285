/**
 * The contract every EventBus adapter keeps (src/platform/bus/event-bus.ts), as one
 * vitest suite. Each engine's test file calls it:
 *
 *   // test/bus/postgres-bus.test.ts
 *   import { defineBusContract } from './bus-contract.js';
 *   defineBusContract('postgres', {
 *     leaseMs: 1000,
 *     isolate: () => {
 *       // one fresh namespace (schema, stream prefix, queue prefix…) per call
 *       return (consumers) => openPostgresBusOn(namespace, consumers);
 *     },
 *   });
 *
 * For the SIGKILL test, give the opener a `child` property returning
 * `{ engine, options }` (see nats-bus.test.ts) and add the engine to
 * test/bus/subscriber-child.ts; without it that one test is skipped.
 *
 * `isolate()` is called once per test and returns an opener; each call of the opener is
 * another connection to the SAME namespace (another "process"), so competing subscribers
 * and crash/restart can be shown. `consumers` is the deployment's consumer topology: the
 * adapters whose queues must exist before publication (RabbitMQ, SQS/EventBridge) declare
 * them; engines that keep a log (Postgres, NATS, Redis) may ignore it.
 *
 * `bus.ordered === true` promises: one subscriber receives the events of one subject in
 * publication order, even with concurrency > 1, as long as nothing is retried. The suite
 * checks that with concurrency 4; an engine that cannot keep it must say `ordered: false`
 * (the test is then skipped and reported as such).
 *
 * Dead-lettering after the maximum and replay are done by the consumer runtime in the
 * database; what the adapter must provide is proved here: attempts climb by one across
 * retries (so the runtime can stop at its maximum) and an event published again (replay)
 * is delivered again.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../src/platform/events/cloud-event.js';
import type { Delivery, EventBus, Handler, SubscribeOptions, Subscription } from '../../src/platform/bus/event-bus.js';

export type ConsumerDeclaration = Pick<SubscribeOptions, 'consumer' | 'types'>;
export interface OpenBus {
  (consumers: readonly ConsumerDeclaration[]): Promise<EventBus>;
  /**
   * Optional: how test/bus/subscriber-child.ts opens the same namespace in a child
   * process (engine name + adapter options as JSON); enables the SIGKILL test.
   */
  child?: () => { engine: string; options: Record<string, unknown> };
}

export interface BusContractOptions {
  /** A fresh namespace per call; the returned opener connects to it (as often as asked). */
  isolate: () => OpenBus;
  /** Lease used by the suite; at least the engine's granularity (SQS: whole seconds). */
  leaseMs: number;
}

export const CREATED = 'com.nedlia.placement.created';
export const UPDATED = 'com.nedlia.placement.updated';
export const VALIDATION = 'com.nedlia.video.validation_requested';

let sequence = 0;
export function makeEvent(type: string, subject: string, data: Record<string, unknown> = {}): CloudEvent {
  sequence += 1;
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: '/test',
    type,
    time: new Date().toISOString(),
    subject,
    datacontenttype: 'application/json',
    data: { seq: sequence, ...data },
    schemaversion: 1,
  };
}

/** Polls `predicate` until true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ack = { kind: 'ack' } as const;

export function defineBusContract(name: string, options: BusContractOptions): void {
  const { leaseMs } = options;
  const settle = Math.max(10_000, leaseMs * 8);

  describe(`EventBus contract: ${name}`, () => {
    const toClose: Array<{ close(): Promise<void> }> = [];
    afterEach(async () => {
      // Subscriptions before buses; a hung handler must not hang the suite.
      for (const item of toClose.splice(0).reverse()) await item.close();
    });

    function isolate(): OpenBus {
      const open = options.isolate();
      const tracked: OpenBus = async (consumers) => {
        const bus = await open(consumers);
        toClose.push(bus);
        return bus;
      };
      if (open.child) tracked.child = open.child;
      return tracked;
    }

    async function subscribe(bus: EventBus, subscribe: SubscribeOptions, handler: Handler): Promise<Subscription> {
      const subscription = await bus.subscribe(subscribe, handler);
      toClose.push(subscription);
      return subscription;
    }

    function recorder() {
      const deliveries: Delivery[] = [];
      const handler: Handler = async (delivery) => {
        deliveries.push(delivery);
        return ack;
      };
      return { deliveries, handler, ids: () => new Set(deliveries.map((d) => d.event.id)) };
    }

    it('ping() resolves on an open bus and the bus reports its name', async () => {
      const bus = await isolate()([]);
      await bus.ping();
      expect(bus.name).toBe(name.split(' ')[0]);
    });

    it('delivers every published event of the declared types, intact, on attempt 1', async () => {
      const consumers = [{ consumer: 'projector', types: [CREATED, UPDATED] }];
      const bus = await isolate()(consumers);
      const events = [
        ...Array.from({ length: 40 }, (_, i) => makeEvent(CREATED, `p-${i % 7}`, { i })),
        ...Array.from({ length: 20 }, (_, i) => makeEvent(VALIDATION, `v-${i}`)),
        ...Array.from({ length: 40 }, (_, i) => makeEvent(UPDATED, `p-${i % 7}`, { i, note: 'é ✓' })),
      ];
      const seen = recorder();
      await subscribe(bus, { ...consumers[0]!, leaseMs, concurrency: 8 }, seen.handler);
      await bus.publish(events);
      const wanted = events.filter((e) => e.type !== VALIDATION);
      await waitFor('80 deliveries', () => seen.ids().size >= wanted.length, settle);
      await pause(300);
      expect(seen.ids()).toEqual(new Set(wanted.map((e) => e.id)));
      expect(seen.deliveries.every((d) => d.event.type !== VALIDATION)).toBe(true);
      expect(seen.deliveries.every((d) => d.attempt === 1)).toBe(true);
      const sample = wanted[55]!;
      expect(seen.deliveries.find((d) => d.event.id === sample.id)?.event).toEqual(sample);
    });

    it('fans out: every consumer receives every event of its types', async () => {
      const consumers = [
        { consumer: 'notifier', types: [CREATED] },
        { consumer: 'validator', types: [CREATED, VALIDATION] },
        { consumer: 'auditor', types: [CREATED, UPDATED, VALIDATION] },
      ];
      const bus = await isolate()(consumers);
      const recorders = consumers.map(() => recorder());
      for (const [i, c] of consumers.entries()) {
        await subscribe(bus, { ...c, leaseMs, concurrency: 4 }, recorders[i]!.handler);
      }
      const events = [CREATED, UPDATED, VALIDATION].flatMap((type) =>
        Array.from({ length: 15 }, (_, i) => makeEvent(type, `s-${i}`)),
      );
      await bus.publish(events);
      for (const [i, c] of consumers.entries()) {
        const wanted = new Set(events.filter((e) => c.types.includes(e.type)).map((e) => e.id));
        await waitFor(`${c.consumer} deliveries`, () => recorders[i]!.ids().size >= wanted.size, settle);
        expect(recorders[i]!.ids()).toEqual(wanted);
      }
    });

    it('a consumer that subscribes after publication still receives the earlier events', async () => {
      const consumers = [{ consumer: 'late-projector', types: [CREATED] }];
      const open = isolate();
      const publisher = await open(consumers);
      const events = Array.from({ length: 25 }, (_, i) => makeEvent(CREATED, `p-${i}`));
      await publisher.publish(events);
      await publisher.close();

      const bus = await open(consumers);
      const seen = recorder();
      await subscribe(bus, { ...consumers[0]!, leaseMs, concurrency: 4 }, seen.handler);
      await waitFor('the earlier events', () => seen.ids().size >= events.length, settle);
      expect(seen.ids()).toEqual(new Set(events.map((e) => e.id)));
    });

    it('subscribers sharing a consumer name share the work with no loss', async () => {
      const consumers = [{ consumer: 'file-generator', types: [CREATED] }];
      const open = isolate();
      const [first, second] = [await open(consumers), await open(consumers)];
      const a = recorder();
      const b = recorder();
      const slow = (inner: Handler): Handler => async (delivery) => {
        await pause(5);
        return inner(delivery);
      };
      await subscribe(first, { ...consumers[0]!, leaseMs, concurrency: 2 }, slow(a.handler));
      await subscribe(second, { ...consumers[0]!, leaseMs, concurrency: 2 }, slow(b.handler));
      const events = Array.from({ length: 120 }, (_, i) => makeEvent(CREATED, `p-${i}`));
      await first.publish(events);
      const union = () => new Set([...a.ids(), ...b.ids()]);
      await waitFor('all events across both subscribers', () => union().size >= events.length, settle * 2);
      expect(union()).toEqual(new Set(events.map((e) => e.id)));
      expect(a.deliveries.length).toBeGreaterThan(0);
      expect(b.deliveries.length).toBeGreaterThan(0);
      // Sharing, not copying: an event handled twice would be a redelivery (attempt > 1).
      expect(a.deliveries.length + b.deliveries.length).toBe(events.length);
    });

    it('keeps per-subject order for one subscriber when the engine says it is ordered', async (context) => {
      const consumers = [{ consumer: 'read-model', types: [CREATED, UPDATED] }];
      const bus = await isolate()(consumers);
      if (!bus.ordered) context.skip(`${name} does not keep per-subject order (ordered: false)`);
      const events = Array.from({ length: 120 }, (_, i) =>
        makeEvent(i % 3 === 0 ? CREATED : UPDATED, `agg-${i % 6}`, { position: i }),
      );
      const order = new Map<string, number[]>();
      await subscribe(bus, { ...consumers[0]!, leaseMs, concurrency: 4 }, async ({ event }) => {
        // Uneven handling time: a later event of another subject may overtake, never one of the same subject.
        await pause(Number(String(event.subject).slice(4)) % 2 === 0 ? 4 : 0);
        const list = order.get(event.subject) ?? [];
        list.push((event.data as { position: number }).position);
        order.set(event.subject, list);
        return ack;
      });
      await bus.publish(events);
      await waitFor('120 deliveries', () => [...order.values()].reduce((n, l) => n + l.length, 0) >= 120, settle);
      for (const [subject, positions] of order) {
        expect(positions, subject).toEqual([...positions].sort((x, y) => x - y));
      }
    });

    it('redelivers, with attempt increased, what a crashed or hung subscriber never settled', async () => {
      const consumers = [{ consumer: 'analyser', types: [CREATED] }];
      const open = isolate();
      const crashed = await open(consumers);
      const events = Array.from({ length: 6 }, (_, i) => makeEvent(CREATED, `p-${i}`));
      const taken = new Set<string>();
      // The "crashed" worker takes every delivery and never settles one (a hung or dead process).
      await subscribe(crashed, { ...consumers[0]!, leaseMs, concurrency: events.length }, ({ event }) => {
        taken.add(event.id);
        return new Promise<never>(() => undefined);
      });
      await crashed.publish(events);
      await waitFor('the first worker to take all events', () => taken.size === events.length, settle);

      const survivor = await open(consumers);
      const seen = recorder();
      await subscribe(survivor, { ...consumers[0]!, leaseMs, concurrency: 4 }, seen.handler);
      await waitFor('redeliveries to the second worker', () => seen.ids().size >= events.length, settle * 2);
      expect(seen.ids()).toEqual(new Set(events.map((e) => e.id)));
      expect(seen.deliveries.every((d) => d.attempt >= 2)).toBe(true);
    });

    it('redelivers, with attempt increased, what a subscriber killed with SIGKILL had taken', async (context) => {
      const consumers = [{ consumer: 'killed', types: [CREATED] }];
      const open = isolate();
      if (!open.child) context.skip('no child-process opener given for this engine');
      const { engine, options: busOptions } = open.child!();
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./subscriber-child.ts', import.meta.url))], {
        env: {
          ...process.env,
          BUS_ENGINE: engine,
          BUS_OPTIONS: JSON.stringify(busOptions),
          CONSUMER: JSON.stringify({ ...consumers[0], leaseMs, concurrency: 10 }),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      toClose.push({ close: async () => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')) });
      const lines: Array<{ ready?: boolean; id?: string; attempt?: number }> = [];
      let buffered = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        for (const part of parts) if (part.trim()) lines.push(JSON.parse(part) as (typeof lines)[number]);
      });
      await waitFor('the child subscriber to start', () => lines.some((l) => l.ready), 30_000);

      const bus = await open(consumers);
      const events = Array.from({ length: 8 }, (_, i) => makeEvent(CREATED, `p-${i}`));
      await bus.publish(events);
      const taken = () => new Set(lines.filter((l) => l.id).map((l) => l.id));
      await waitFor('the child to take every event', () => taken().size === events.length, settle);
      child.kill('SIGKILL');
      await exited;

      const seen = recorder();
      await subscribe(bus, { ...consumers[0]!, leaseMs, concurrency: 4 }, seen.handler);
      await waitFor('redeliveries after the kill', () => seen.ids().size >= events.length, settle * 2);
      expect(seen.ids()).toEqual(new Set(events.map((e) => e.id)));
      expect(seen.deliveries.every((d) => d.attempt >= 2)).toBe(true);
    });

    it('ignores the late outcome of a delivery whose lease ran out (a stale worker cannot settle the new attempt)', async () => {
      const consumers = [{ consumer: 'fenced', types: [CREATED] }];
      const open = isolate();
      const [stale, fresh] = [await open(consumers), await open(consumers)];
      const seen: number[] = [];
      const handler: Handler = async ({ attempt }) => {
        seen.push(attempt);
        if (attempt === 1) {
          // Stalls past its lease, then acks once the redelivery is in someone else's hands.
          await waitFor('the redelivery', () => seen.includes(2), settle * 2).catch(() => undefined);
          await pause(50);
          return ack;
        }
        // The new attempt asks for a retry: a stale ack must not swallow it.
        return attempt === 2 ? { kind: 'retry', delayMs: 100 } : ack;
      };
      await subscribe(stale, { ...consumers[0]!, leaseMs, concurrency: 1 }, handler);
      await stale.publish([makeEvent(CREATED, 'p-1')]);
      await waitFor('the first attempt', () => seen.includes(1), settle);
      await subscribe(fresh, { ...consumers[0]!, leaseMs, concurrency: 1 }, handler);
      await waitFor('attempt 3 after the retry of attempt 2', () => seen.includes(3), settle * 3);
      expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
    });

    it('a handler that throws is treated like a crash: redelivered after the lease', async () => {
      const consumers = [{ consumer: 'sync', types: [CREATED] }];
      const bus = await isolate()(consumers);
      const attempts: Array<{ attempt: number; at: number }> = [];
      await subscribe(bus, { ...consumers[0]!, leaseMs, concurrency: 1 }, async ({ attempt }) => {
        attempts.push({ attempt, at: Date.now() });
        if (attempt === 1) throw new Error('handler bug');
        return ack;
      });
      await bus.publish([makeEvent(CREATED, 'p-1')]);
      await waitFor('a second attempt', () => attempts.length >= 2, settle * 2);
      expect(attempts.map((a) => a.attempt).slice(0, 2)).toEqual([1, 2]);
    });

    it('retry makes the event visible again after the delay, with attempt + 1', async () => {
      const consumers = [{ consumer: 'webhooks', types: [CREATED] }];
      const bus = await isolate()(consumers);
      const delayMs = 600;
      const seen: Array<{ attempt: number; at: number }> = [];
      await subscribe(bus, { ...consumers[0]!, leaseMs, concurrency: 2 }, async ({ attempt }) => {
        seen.push({ attempt, at: Date.now() });
        return attempt < 3 ? { kind: 'retry', delayMs } : ack;
      });
      await bus.publish([makeEvent(CREATED, 'p-1')]);
      await waitFor('three attempts', () => seen.length >= 3, settle * 2);
      await pause(Math.max(500, leaseMs));
      expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
      // Loose: the engine may round the delay up (SQS: whole seconds), never down by much.
      for (let i = 1; i < seen.length; i += 1) {
        expect(seen[i]!.at - seen[i - 1]!.at).toBeGreaterThanOrEqual(delayMs * 0.8);
      }
    });

    it('attempts climb by one across retries, so the runtime can stop at its maximum', async () => {
      const consumers = [{ consumer: 'matcher', types: [CREATED, UPDATED] }];
      const bus = await isolate()(consumers);
      const maximum = 5;
      const attempts = new Map<string, number[]>();
      await subscribe(bus, { ...consumers[0]!, leaseMs, concurrency: 4 }, async ({ event, attempt }) => {
        attempts.set(event.id, [...(attempts.get(event.id) ?? []), attempt]);
        // What the runtime does at its maximum: record the dead letter, then ack.
        return attempt >= maximum ? ack : { kind: 'retry', delayMs: 50 };
      });
      const events = [makeEvent(CREATED, 'p-1'), makeEvent(UPDATED, 'p-2'), makeEvent(CREATED, 'p-3')];
      await bus.publish(events);
      const done = () => events.every((e) => (attempts.get(e.id) ?? []).length >= maximum);
      await waitFor(`${maximum} attempts of each event`, done, settle * 3);
      await pause(Math.max(500, leaseMs));
      for (const e of events) expect(attempts.get(e.id)).toEqual([1, 2, 3, 4, 5]);
    });

    it('an event published again (replay from dead letters) is delivered again', async () => {
      const consumers = [{ consumer: 'replayed', types: [CREATED] }];
      const bus = await isolate()(consumers);
      const seen = recorder();
      await subscribe(bus, { ...consumers[0]!, leaseMs, concurrency: 2 }, seen.handler);
      const event = makeEvent(CREATED, 'p-1');
      await bus.publish([event]);
      await waitFor('the first delivery', () => seen.deliveries.length >= 1, settle);
      await bus.publish([event]);
      await waitFor('the replayed delivery', () => seen.deliveries.length >= 2, settle);
      expect(seen.deliveries.map((d) => [d.event.id, d.attempt])).toEqual([
        [event.id, 1],
        [event.id, 1],
      ]);
    });

    it('close() waits for deliveries in hand and their acks stick', async () => {
      const consumers = [{ consumer: 'drained', types: [CREATED] }];
      const open = isolate();
      const bus = await open(consumers);
      const started = new Set<string>();
      const finished = new Set<string>();
      const subscription = await bus.subscribe({ ...consumers[0]!, leaseMs, concurrency: 3 }, async ({ event }) => {
        started.add(event.id);
        await pause(Math.min(400, leaseMs / 3));
        finished.add(event.id);
        return ack;
      });
      const events = Array.from({ length: 3 }, (_, i) => makeEvent(CREATED, `p-${i}`));
      await bus.publish(events);
      await waitFor('three deliveries in hand', () => started.size === 3, settle);
      await subscription.close();
      expect(finished.size).toBe(3);
      await bus.close();

      const again = await open(consumers);
      const seen = recorder();
      await subscribe(again, { ...consumers[0]!, leaseMs, concurrency: 3 }, seen.handler);
      await pause(leaseMs * 2 + 500);
      expect(seen.deliveries).toEqual([]);
    });
  });
}
