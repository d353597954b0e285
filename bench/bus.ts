/**
 * `npm run bench:bus`: per bus adapter, the whole path commit → relay → bus → consumer
 * effect (inbox + one row written in the consumer's transaction).
 * - throughput: 20,000 events committed in transactions of 200 as fast as possible;
 *   events/s from the first commit to the last effect;
 * - lag: a steady 500 events/s for 10 s (transactions of 10 every 20 ms); p50/p99 of
 *   the time from a transaction's commit to each of its events' effects.
 * BENCH_BUSES=postgres,nats,… picks adapters (each made by create-bus.ts from EVENT_BUS);
 * the postgres bus runs on PGlite (embedded) and on PostgreSQL, brokers on PostgreSQL.
 * BENCH_EVENTS, BENCH_RATE, BENCH_SECONDS override the sizes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig, type EventBusKind } from '../src/platform/config/config.js';
import { EventTypes } from '../src/features/catalog/index.js';
import '../src/entry/event-types.js';
import { createBus } from '../src/platform/bus/create-bus.js';
import type { Consumer } from '../src/platform/consumers/consumer.js';
import { ConsumerRuntime } from '../src/platform/consumers/consumer-runtime.js';
import { openPglite, openPostgres, type DatabaseHandle } from '../src/platform/db/connect.js';
import { buildEvent, insertEvents } from '../src/platform/events/event-log.js';
import { migrations } from '../src/platform/db/migrations/index.js';
import { migrateUp } from '../src/platform/db/migrator.js';
import { ensureEventLogPartitions } from '../src/platform/db/partitions.js';
import { OutboxRelay } from '../src/platform/outbox/outbox-relay.js';
import { sql } from 'kysely';

const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const buses = (process.env.BENCH_BUSES ?? 'postgres').split(',').map((s) => s.trim()) as EventBusKind[];
const logger = pino({ level: 'warn' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function event() {
  const id = randomUUID();
  return buildEvent(
    { type: EventTypes.placementCreated, subject: id, data: { placement_id: id, video_id: randomUUID(), product_id: randomUUID(), time_range: { start_time: 0, end_time: 1 } } },
    { correlationId: randomUUID(), actor: 'bench' },
  );
}

async function freshDatabase(engine: 'pglite' | 'postgresql'): Promise<{ handle: DatabaseHandle; url?: string; drop(): Promise<void> }> {
  if (engine === 'pglite') {
    const handle = await openPglite();
    return { handle, drop: () => handle.close() };
  }
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  const name = `nedlia_bench_bus_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const handle = openPostgres({ connectionString: url.toString(), max: 20 });
  return {
    handle,
    url: url.toString(),
    async drop() {
      await handle.close();
      // pg-pool's end() resolves before its clients' sockets are closed: let them close before DROP … FORCE.
      await sleep(500);
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function run(kind: EventBusKind, engine: 'pglite' | 'postgresql'): Promise<Record<string, string | number>> {
  const { handle, url, drop } = await freshDatabase(engine);
  const db = handle.db;
  try {
    await migrateUp(db, migrations);
    await ensureEventLogPartitions(db);
    await sql`CREATE TABLE bench_effects (event_id TEXT NOT NULL)`.execute(db);
    // A namespace of its own, so a run never meets another run's (or a service's) queues.
    const namespace = `bench-${process.pid}-${kind}-${engine}`;
    const config = loadConfig({ ...process.env, EVENT_BUS: kind, BUS_NAMESPACE: namespace, ...(url ? { DATABASE_URL: url } : {}) });
    const bus = await createBus(kind, { config, db, topology: [{ consumer: 'bench-sink', types: [EventTypes.placementCreated] }] });
    const committedAt = new Map<string, number>();
    const lags: number[] = [];
    let effects = 0;
    let lastEffectAt = 0;
    const sink: Consumer = {
      name: 'bench-sink',
      types: [EventTypes.placementCreated],
      concurrency: 32,
      async handle(e, tx) {
        await tx.insertInto('bench_effects' as never).values({ event_id: e.id } as never).execute();
        const now = performance.now();
        const at = committedAt.get(e.id);
        if (at !== undefined) {
          lags.push(now - at);
          committedAt.delete(e.id);
        }
        effects++;
        lastEffectAt = now;
      },
    };
    const runtime = new ConsumerRuntime({ db, bus, logger });
    await runtime.start([sink]);
    const relay = new OutboxRelay(db, bus, { logger, batchSize: 1000 });
    relay.start();

    // Throughput.
    const firstCommit = performance.now();
    for (let sent = 0; sent < EVENTS; sent += 200) {
      const batch = Array.from({ length: Math.min(200, EVENTS - sent) }, event);
      await db.transaction().execute((tx) => insertEvents(tx, batch));
    }
    const producedIn = performance.now() - firstCommit;
    const deadline = Date.now() + 10 * 60_000;
    while (effects < EVENTS && Date.now() < deadline) await sleep(20);
    const throughput = Math.round(EVENTS / ((lastEffectAt - firstCommit) / 1000));

    // Lag at a steady rate.
    lags.length = 0;
    const perTick = Math.max(1, Math.round(RATE / 50));
    const ticks = SECONDS * 50;
    const steadyTarget = effects + perTick * ticks;
    const start = performance.now();
    for (let i = 0; i < ticks; i++) {
      const batch = Array.from({ length: perTick }, event);
      await db.transaction().execute((tx) => insertEvents(tx, batch));
      const at = performance.now();
      for (const e of batch) committedAt.set(e.id, at);
      const next = start + (i + 1) * 20;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
    }
    while (effects < steadyTarget && Date.now() < deadline) await sleep(20);
    const sorted = [...lags].sort((a, b) => a - b);

    await relay.stop();
    await runtime.stop();
    await bus.close();
    return {
      bus: kind,
      database: engine,
      events: EVENTS,
      'commit events/s': Math.round(EVENTS / (producedIn / 1000)),
      'commit→effect events/s': throughput,
      'steady rate/s': perTick * 50,
      'lag p50 ms': Number(percentile(sorted, 50).toFixed(1)),
      'lag p99 ms': Number(percentile(sorted, 99).toFixed(1)),
      'lag max ms': Number((sorted[sorted.length - 1] ?? NaN).toFixed(1)),
    };
  } finally {
    await drop();
  }
}

const rows: Record<string, string | number>[] = [];
for (const kind of buses) {
  const engines = (process.env.BENCH_ENGINES ?? (kind === 'postgres' ? 'pglite,postgresql' : 'postgresql')).split(',') as ('pglite' | 'postgresql')[];
  for (const engine of engines) {
    try {
      process.stderr.write(`running ${kind} on ${engine}…\n`);
      rows.push(await run(kind, engine));
    } catch (error) {
      process.stderr.write(`${kind} on ${engine} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      rows.push({ bus: kind, database: engine, error: error instanceof Error ? error.message : String(error) });
    }
  }
}
const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
const width = (c: string) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length));
const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
process.stdout.write(`${line(columns.map((c) => c.padEnd(width(c))))}\n${line(columns.map((c) => '-'.repeat(width(c))))}\n`);
for (const r of rows) process.stdout.write(`${line(columns.map((c) => String(r[c] ?? '').padEnd(width(c))))}\n`);
