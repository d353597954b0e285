/**
 * SQS (the local-aws-sqs emulator) through a TCP proxy of the test's own, with the
 * relay and the consumer runtime of a worker in this process (short leases and no long
 * poll, so that what a broken link left in hand comes back within the test's time).
 * With the link reset, then stalled: every call gives up within its bound, the relay
 * and the subscription report the fault once, and when the link returns every event is
 * handled exactly once; nothing escapes as an unhandled error.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SqsBus } from '../../src/platform/bus/sqs/sqs-bus.js';
import { ConsumerRuntime } from '../../src/platform/consumers/consumer-runtime.js';
import { placementDetailsProjector } from '../../src/features/catalog/placements/placement-details-projector.js';
import { OutboxRelay } from '../../src/platform/outbox/outbox-relay.js';
import type { TestDatabase } from '../support/engine.js';
import { startTcpProxy, type ProxyMode, type TcpProxy } from '../support/tcp-proxy.js';
import { capturingLogger, openPostgresDatabase, projectorLoad } from '../events/support.js';
import { until } from './support.js';

const consumer = { ...placementDetailsProjector, leaseMs: 2_000 };
const { logger, lines } = capturingLogger();
const busErrors: unknown[] = [];
const restored: unknown[] = [];
let server: Server;
let proxy: TcpProxy;
let database: TestDatabase;
let bus: SqsBus;
let relay: OutboxRelay;
let runtime: ConsumerRuntime;
const events: string[] = [];
let load: ReturnType<typeof projectorLoad>;

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  proxy = await startTcpProxy({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  database = await openPostgresDatabase();
  load = projectorLoad(database.db, events);
  bus = new SqsBus({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${proxy.port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    queuePrefix: `f${randomUUID().slice(0, 8)}-`,
    consumers: [{ consumer: consumer.name, types: consumer.types }],
    receiveWaitSeconds: 0,
    onError: (error) => busErrors.push(error),
    onRestore: (info) => restored.push(info),
  });
  relay = new OutboxRelay(database.db, bus, { logger });
  runtime = new ConsumerRuntime({ db: database.db, bus, logger });
  await runtime.start([consumer]);
  relay.start();
});

afterAll(async () => {
  await relay?.stop();
  await runtime?.stop();
  await bus?.close();
  await proxy?.close();
  await database?.close();
  if (server) await new Promise((resolve) => server.close(resolve));
});

const relayDown = () => lines.filter((l) => l.msg === 'outbox relay step failed; retrying until it succeeds').length;

async function cut(mode: ProxyMode): Promise<string> {
  const before = relayDown();
  proxy.setMode(mode);
  await load.commit(5);
  const started = performance.now();
  await expect(bus.ping()).rejects.toThrow();
  const pingMs = performance.now() - started;
  const reported = await until(() => relayDown() > before, 20_000, `the relay reporting the ${mode}`);
  const backAt = performance.now();
  proxy.setMode('pass');
  await until(load.handledAll, 30_000, `every event handled after the ${mode}`);
  return `sqs ${mode}: ping failed after ${pingMs.toFixed(0)} ms; relay reported after ${reported.toFixed(0)} ms; all handled ${(performance.now() - backAt).toFixed(0)} ms after the link returned`;
}

it('a reset and a stalled link: bounded calls, one report each, every event handled once', async () => {
  await load.commit(5);
  await until(load.handledAll, 20_000, 'the first events handled');
  const figures = [await cut('reset'), await cut('stall')];
  process.stdout.write(`${figures.join('\n')}\n`);

  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM consumer_inbox WHERE consumer = ${consumer.name}`.execute(database.db);
  expect(Number(rows[0]?.n)).toBe(events.length);
  expect((await sql`SELECT 1 FROM dead_letters`.execute(database.db)).rows).toEqual([]);
  const handled = lines.filter((l) => l.msg === 'event handled' && l.consumer === 'placement-details-projector').map((l) => l.event_id);
  expect(new Set(handled).size).toBe(handled.length);
  expect(relayDown()).toBe(2);
  await until(() => lines.filter((l) => l.msg === 'outbox relay works again').length === 2, 10_000, 'the relay recovery logged');
  // The receive loop and the settling of deliveries: each reports an outage once, and its end.
  expect(busErrors.length, busErrors.map(String).join('\n')).toBeLessThanOrEqual(4);
  await until(() => restored.length === busErrors.length, 10_000, 'each bus outage reported as over');
}, 120_000);
