/**
 * A worker (relay + consumer) on Redis, NATS and RabbitMQ through a TCP proxy of the
 * test's own, the database reached directly (SQS: sqs-faults.test.ts). With the broker link reset, then stalled: the worker
 * stays up, readiness says the bus is down within a second, the relay's publish and
 * the subscription's waits are bounded (the relay reports the fault), each fault is
 * logged once, and when the link returns every event committed before or during the
 * cut is handled, none twice.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/engine.js';
import { freePort } from '../support/service-process.js';
import { startTcpProxy, type ProxyMode, type TcpProxy } from '../support/tcp-proxy.js';
import { deleteRabbitMqTopology } from '../bus/rabbitmq-cleanup.js';
import { openPostgresDatabase, projectorLoad } from '../events/support.js';
import { outageLog, spawnMode, stop, until, type ModeProcess } from './support.js';

const READY_MS = 1_500;
const namespace = `ft${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  await deleteRabbitMqTopology('amqp://guest:guest@127.0.0.1:5672', [namespace]).catch(() => undefined);
});

interface Broker {
  bus: string;
  target(): Promise<{ host: string; port: number }>;
  env(proxyPort: number): Record<string, string>;
}

const brokers: Broker[] = [
  { bus: 'redis', target: async () => ({ host: '127.0.0.1', port: 6379 }), env: (p) => ({ REDIS_URL: `redis://127.0.0.1:${p}` }) },
  { bus: 'nats', target: async () => ({ host: '127.0.0.1', port: 4222 }), env: (p) => ({ NATS_URL: `nats://127.0.0.1:${p}` }) },
  { bus: 'rabbitmq', target: async () => ({ host: '127.0.0.1', port: 5672 }), env: (p) => ({ RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${p}` }) },
];

interface Worker {
  database: TestDatabase;
  proxy: TcpProxy;
  worker: ModeProcess;
  ops: string;
  dataDir: string;
  events: string[];
}

async function startWorker(broker: Broker): Promise<Worker> {
  const database = await openPostgresDatabase();
  const proxy = await startTcpProxy(await broker.target());
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-faults-'));
  const opsPort = await freePort();
  const ops = `http://127.0.0.1:${opsPort}`;
  const worker = spawnMode('worker', {
    // The load is synthetic placement events: the projector is the consumer this test watches.
    CONSUMERS: 'placement-details-projector',
    DATABASE_URL: database.url as string,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    METRICS_PORT: String(opsPort),
    EVENT_BUS: broker.bus,
    BUS_NAMESPACE: namespace,
    ...broker.env(proxy.port),
  });
  await until(async () => (await fetch(`${ops}/health/ready`).catch(() => undefined))?.status === 200, 60_000, `the worker on ${broker.bus} ready:\n${worker.output()}`);
  return { database, proxy, worker, ops, dataDir, events: [] };
}

async function stopWorker(w: Worker | undefined): Promise<void> {
  if (!w) return;
  await stop(w.worker);
  await w.proxy.close();
  await w.database.close();
  await rm(w.dataDir, { recursive: true, force: true });
}

/** The brokers are independent: their cases run at the same time. */
describe.concurrent('a worker on a broker through a proxy', () => {
  it.each(brokers)('$bus: survives a reset and a stalled link, logging each once, losing and doubling nothing', async (broker) => {
    let w: Worker | undefined;
    try {
      w = await startWorker(broker);
      await exercise(broker, w);
    } finally {
      await stopWorker(w);
    }
  }, 240_000);
});

async function exercise(broker: Broker, { database, proxy, worker, ops, events }: Worker): Promise<void> {
  const { commit, handledAll } = projectorLoad(database.db, events);

  const relayDown = () => worker.said('outbox relay step failed; retrying until it succeeds').length;

  async function cut(mode: ProxyMode): Promise<string> {
    const downBefore = relayDown();
    proxy.setMode(mode);
    await commit(5);
    const started = performance.now();
    const res = await fetch(`${ops}/health/ready`, { signal: AbortSignal.timeout(10_000) });
    const readyMs = performance.now() - started;
    const body = (await res.json()) as { detail?: string };
    expect(res.status).toBe(503);
    expect(body.detail).toContain('bus');
    expect(readyMs).toBeLessThan(READY_MS);
    expect((await fetch(`${ops}/health/live`)).status).toBe(200);
    // The relay's publish gives up within its bound and says so.
    const reported = await until(() => relayDown() > downBefore, 20_000, `the relay reporting the ${mode}:\n${worker.output().slice(-4000)}`);
    const backAt = performance.now();
    proxy.setMode('pass');
    await until(handledAll, 90_000, `every event handled after the ${mode}:\n${worker.output().slice(-4000)}`);
    expect(worker.alive(), worker.output()).toBe(true);
    return `${broker.bus} ${mode}: ready ${readyMs.toFixed(0)} ms; relay reported after ${reported.toFixed(0)} ms; all handled ${(performance.now() - backAt).toFixed(0)} ms after the link returned`;
  }

  await commit(5);
  await until(handledAll, 30_000, 'the first events handled');
  const figures = [await cut('reset'), await cut('stall')];
  process.stdout.write(`${figures.join('\n')}\n`);

  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM consumer_inbox WHERE consumer = 'placement-details-projector'`.execute(database.db);
  expect(Number(rows[0]?.n)).toBe(events.length);
  expect((await sql`SELECT 1 FROM dead_letters`.execute(database.db)).rows).toEqual([]);
  const handled = worker.said('event handled').filter((l) => l.consumer === 'placement-details-projector').map((l) => l.event_id);
  expect(new Set(handled).size).toBe(handled.length);
  // Once per outage for the relay (each cut is one, at least), and a bounded few for the broker connection, not one per retry.
  const relayLog = () => outageLog(worker, 'outbox relay step failed; retrying until it succeeds', 'outbox relay works again');
  await until(() => relayLog().downs === relayLog().ups, 20_000, `the relay recovery logged: ${relayLog().sequence}`);
  expect(relayLog().alternates, relayLog().sequence).toBe(true);
  expect(relayLog().downs).toBeGreaterThanOrEqual(2);
  const busErrors = worker.said('event bus error');
  expect(busErrors.length, busErrors.map((l) => JSON.stringify(l.err)).join('\n')).toBeLessThanOrEqual(4);
  expect(worker.alive()).toBe(true);
}
