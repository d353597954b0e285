/**
 * Crash harness shared by the crash test (quick) and `bench/crash.ts` (long): commits
 * events in batches while a worker process is killed with SIGKILL at random moments and
 * restarted, then waits for the worker to finish and counts effects per event id.
 *
 * The worker runs on the bus `openCrashBus` prepares: the postgres bus, or a broker under
 * a namespace of its own (`BUS_NAMESPACE`), so that runs sharing a broker never see each
 * other's events; `cleanup()` removes what the run created on the broker.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { loadConfig, type Config } from '../../src/platform/config/config.js';
import { EventTypes } from '../../src/features/catalog/index.js';
import { allConsumers } from '../../src/entry/consumers.js';
import { placementDetailsProjector } from '../../src/features/catalog/placements/placement-details-projector.js';
import type { DatabaseHandle } from '../../src/platform/db/connect.js';
import { buildEvent, insertEvents } from '../../src/platform/events/event-log.js';
import type { Database } from '../../src/platform/db/schema.js';

// Built here rather than in ./support.ts, which needs vitest: bench/crash.ts runs outside it.
function placementCreated() {
  const id = randomUUID();
  return buildEvent(
    { type: EventTypes.placementCreated, subject: id, data: { placement_id: id, video_id: randomUUID(), product_id: randomUUID(), time_range: { start_time: 1, end_time: 2 } } },
    { correlationId: randomUUID(), actor: 'crash-test' },
  );
}

const workerEntry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crash-worker.ts');
const CONSUMER = placementDetailsProjector.name;

export const CRASH_BUSES = ['postgres', 'redis', 'nats', 'rabbitmq'] as const;
export type CrashBusKind = (typeof CRASH_BUSES)[number];

/** The bus a crash run uses, seen from outside the worker. */
export interface CrashBus {
  kind: CrashBusKind;
  /** Added to the worker's environment: `EVENT_BUS` and, for a broker, `BUS_NAMESPACE`. */
  env: Record<string, string>;
  /** Deliveries of the consumer still on the bus: queued, in flight, or waiting to be retried. */
  outstanding(db: Kysely<Database>): Promise<number>;
  /** Removes what the run created on the broker (nothing for the postgres bus). */
  cleanup(): Promise<void>;
}

/** A namespace of its own on brokers (`crash-<hex>`); broker URLs come from the environment. */
export async function openCrashBus(kind: CrashBusKind, config: Config = loadConfig()): Promise<CrashBus> {
  const namespace = `crash-${randomBytes(4).toString('hex')}`;
  const env = { EVENT_BUS: kind, BUS_NAMESPACE: namespace };
  switch (kind) {
    case 'postgres':
      return {
        kind,
        env: { EVENT_BUS: kind },
        async outstanding(db) {
          const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM bus_queue WHERE consumer = ${CONSUMER}`.execute(db);
          return rows[0]?.n ?? 0;
        },
        cleanup: async () => undefined,
      };
    case 'redis': {
      const { Redis } = await import('ioredis');
      const redis = new Redis(config.brokers.redisUrl, { maxRetriesPerRequest: 3 });
      const streams = [`${namespace}:events`, `${namespace}:retry:${CONSUMER}`];
      return {
        kind,
        env,
        async outstanding() {
          let total = await redis.zcard(`${namespace}:delayed:${CONSUMER}`);
          for (const stream of streams) {
            const groups = ((await redis.xinfo('GROUPS', stream)) as unknown[][]).map(fieldsOf);
            const group = groups.find((g) => g.name === CONSUMER);
            if (!group) throw new Error(`Redis: no group ${CONSUMER} on ${stream}`);
            // lag = entries not yet delivered to the group (null when Redis cannot tell).
            const lag = group.lag ?? ((await redis.xlen(stream)) > Number(group['entries-read'] ?? 0) ? 1 : 0);
            total += Number(group.pending) + Number(lag);
          }
          return total;
        },
        async cleanup() {
          const keys = await redis.keys(`${namespace}:*`);
          if (keys.length > 0) await redis.del(...keys);
          await redis.quit();
        },
      };
    }
    case 'nats': {
      const { connect } = await import('nats');
      const connection = await connect({ servers: config.brokers.natsUrl.split(',') });
      const manager = await connection.jetstreamManager();
      const stream = `${namespace.toUpperCase()}_EVENTS`;
      return {
        kind,
        env,
        async outstanding() {
          const info = await manager.consumers.info(stream, CONSUMER);
          return info.num_pending + info.num_ack_pending;
        },
        async cleanup() {
          await manager.streams.delete(stream).catch(() => undefined);
          await connection.close();
        },
      };
    }
    case 'rabbitmq': {
      const { connect } = await import('amqplib');
      const connection = await connect(config.brokers.rabbitmqUrl);
      const queues = (): Promise<Map<string, number>> => rabbitQueues(`${namespace}.`);
      return {
        kind,
        env,
        // rabbitmqctl counts unacknowledged messages too (AMQP's queue.declare does not). Only this
        // consumer's queue: the deployment's other consumers have queues too, which nobody reads here.
        async outstanding() {
          return (await queues()).get(`${namespace}.${CONSUMER}`) ?? 0;
        },
        async cleanup() {
          const channel = await connection.createChannel();
          const names = new Set([...(await queues().catch(() => new Map<string, number>())).keys()]);
          for (const c of allConsumers) for (const suffix of ['', '.dead']) names.add(`${namespace}.${c.name}${suffix}`);
          for (const name of names) await channel.deleteQueue(name);
          await channel.deleteExchange(`${namespace}.events`);
          await channel.deleteExchange(`${namespace}.dead-letter`);
          await connection.close();
        },
      };
    }
  }
}

/** Queues named `<prefix>…` and their messages (ready + unacknowledged), from rabbitmqctl. */
async function rabbitQueues(prefix: string): Promise<Map<string, number>> {
  const { stdout } = await promisify(execFile)('rabbitmqctl', ['-q', '--no-table-headers', 'list_queues', 'name', 'messages'], { timeout: 30_000 });
  const queues = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const [name, messages] = line.trim().split('\t');
    if (name?.startsWith(prefix)) queues.set(name, Number(messages));
  }
  return queues;
}

/** `[k1, v1, k2, v2, …]` (XINFO replies) → `{ k1: v1, … }`. */
function fieldsOf(reply: unknown[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = reply[i + 1];
  return fields;
}

export interface CrashRunOptions {
  databaseUrl: string;
  bus: CrashBus;
  events: number;
  kills: number;
  batchSize?: number;
  /** Upper bound for the whole run (ms). */
  timeoutMs?: number;
  /** The run fails sooner when the last worker makes no progress for this long (ms; default 60 s). */
  stallMs?: number;
  log?: (line: string) => void;
}

export interface CrashRunResult {
  bus: CrashBusKind;
  events: number;
  kills: number;
  /** Event ids whose effect count is not exactly one. */
  wrong: { event_id: string; effects: number }[];
  effects: number;
  redelivered: number;
  projected: number;
  deadLetters: number;
  /** Deliveries of the consumer left on the bus after the last worker stopped. */
  leftOnBus: number;
  durationMs: number;
}

function startWorker(databaseUrl: string, bus: CrashBus): { child: ChildProcess; ready: Promise<void>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', workerEntry], {
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'error', ...bus.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('crash-worker ready')) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${output}`)));
  });
  ready.catch(() => undefined);
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, ready, exit };
}

export async function prepareCrashDatabase(db: DatabaseHandle['db']): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS crash_effects (event_id TEXT NOT NULL, attempt INTEGER NOT NULL, pid INTEGER NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())`.execute(db);
}

/** Committed events the relay of `bus` has not published yet (its checkpoint is named after the bus). */
async function relayBacklog(db: Kysely<Database>, bus: CrashBusKind): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM event_log e
    LEFT JOIN outbox_relay_checkpoints c ON c.name = ${bus}
    WHERE (e.tx_id, e.position) > (COALESCE(c.tx_id, '0'::xid8), COALESCE(c.position, 0))`.execute(db);
  return rows[0]?.n ?? 0;
}

export async function runCrashScenario(db: DatabaseHandle['db'], options: CrashRunOptions): Promise<CrashRunResult> {
  const log = options.log ?? (() => undefined);
  const { bus } = options;
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 120_000);
  const batchSize = options.batchSize ?? 50;
  const ids: string[] = [];
  let worker = startWorker(options.databaseUrl, bus);
  await worker.ready;

  // Producer: commits batches while the killer works.
  const producing = (async () => {
    for (let sent = 0; sent < options.events; sent += batchSize) {
      const batch = Array.from({ length: Math.min(batchSize, options.events - sent) }, () => placementCreated());
      await db.transaction().execute((tx) => insertEvents(tx, batch));
      ids.push(...batch.map((e) => e.id));
      await sleep(100 + Math.random() * 150);
    }
  })();

  let kills = 0;
  while (kills < options.kills && Date.now() < deadline) {
    await sleep(150 + Math.random() * 700);
    worker.child.kill('SIGKILL');
    await worker.exit;
    kills++;
    log(`kill ${kills}: SIGKILL to ${worker.child.pid}`);
    worker = startWorker(options.databaseUrl, bus);
    await worker.ready;
  }
  await producing;

  // Let the last worker finish everything: every event in the inbox, the outbox relayed,
  // and nothing for the consumer left on the bus (not even a duplicate in flight). On a
  // busy machine this takes longer: it fails when the worker stops making progress.
  const stallMs = options.stallMs ?? 60_000;
  let progress = '';
  let progressAt = Date.now();
  for (;;) {
    const { rows } = await sql<{ inbox: number }>`
      SELECT count(*)::int AS inbox FROM consumer_inbox WHERE consumer = ${CONSUMER}`.execute(db);
    const inbox = rows[0]?.inbox ?? 0;
    const backlog = inbox >= ids.length ? await relayBacklog(db, bus.kind) : -1;
    const outstanding = backlog === 0 ? await bus.outstanding(db) : -1;
    if (outstanding === 0) break;
    const state = `inbox ${inbox}/${ids.length}, relay backlog ${backlog}, outstanding on the bus ${outstanding}`;
    if (state !== progress) [progress, progressAt] = [state, Date.now()];
    if (Date.now() > deadline || Date.now() - progressAt > stallMs) {
      worker.child.kill('SIGKILL');
      const why = Date.now() > deadline ? 'did not finish in time' : `made no progress for ${stallMs / 1000} s`;
      throw new Error(`the worker ${why} (${state})`);
    }
    await sleep(100);
  }
  worker.child.kill('SIGTERM');
  const code = await worker.exit;
  if (code !== 0) throw new Error(`the last worker did not stop cleanly on SIGTERM (exit ${code})`);
  const leftOnBus = await bus.outstanding(db);

  const counts = await sql<{ event_id: string; effects: number }>`
    SELECT e.id::text AS event_id, count(c.event_id)::int AS effects
    FROM event_log e LEFT JOIN crash_effects c ON c.event_id = e.id::text
    WHERE e.event_type = 'com.nedlia.placement.created'
    GROUP BY e.id`.execute(db);
  const stats = await sql<{ effects: number; redelivered: number; projected: number; dead: number }>`
    SELECT (SELECT count(*)::int FROM crash_effects) AS effects,
           (SELECT count(*)::int FROM crash_effects WHERE attempt > 1) AS redelivered,
           (SELECT count(*)::int FROM placement_details) AS projected,
           (SELECT count(*)::int FROM dead_letters) AS dead`.execute(db);
  const s = stats.rows[0] ?? { effects: 0, redelivered: 0, projected: 0, dead: 0 };
  return {
    bus: bus.kind,
    events: ids.length,
    kills,
    wrong: counts.rows.filter((r) => r.effects !== 1),
    effects: s.effects,
    redelivered: s.redelivered,
    projected: s.projected,
    deadLetters: s.dead,
    leftOnBus,
    durationMs: Date.now() - started,
  };
}
