/**
 * The long crash test: `node --import tsx bench/crash.ts` (CRASH_EVENTS=20000,
 * CRASH_KILLS=30 by default; CRASH_BUS=postgres|redis|nats|rabbitmq, default postgres,
 * brokers from REDIS_URL, NATS_URL, RABBITMQ_URL). Same harness as
 * test/events/crash.test.ts, on a fresh database of BENCH_DATABASE_URL's server and, on a
 * broker, a namespace of its own removed at the end; prints the result and exits 1 if any
 * event's effect did not happen exactly once.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgres } from '../src/platform/db/connect.js';
import { migrations } from '../src/platform/db/migrations/index.js';
import { migrateUp } from '../src/platform/db/migrator.js';
import { ensureEventLogPartitions } from '../src/platform/db/partitions.js';
import { CRASH_BUSES, openCrashBus, prepareCrashDatabase, runCrashScenario, type CrashBusKind } from '../test/events/crash-harness.js';

const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const events = Number(process.env.CRASH_EVENTS ?? 20_000);
const kills = Number(process.env.CRASH_KILLS ?? 30);
const kind = (process.env.CRASH_BUS ?? 'postgres') as CrashBusKind;
if (!CRASH_BUSES.includes(kind)) throw new Error(`CRASH_BUS: expected one of ${CRASH_BUSES.join(', ')}, got ${kind}`);

const admin = new pg.Client({ connectionString: server });
await admin.connect();
const name = `nedlia_crash_${randomBytes(4).toString('hex')}`;
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const handle = openPostgres({ connectionString: url.toString(), max: 4 });
const bus = await openCrashBus(kind);
try {
  await migrateUp(handle.db, migrations);
  await ensureEventLogPartitions(handle.db);
  await prepareCrashDatabase(handle.db);
  const result = await runCrashScenario(handle.db, {
    databaseUrl: url.toString(),
    bus,
    events,
    kills,
    batchSize: 200,
    timeoutMs: 30 * 60_000,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify({ ...result, wrong: result.wrong.slice(0, 10), wrongCount: result.wrong.length }, null, 2)}\n`);
  if (result.wrong.length > 0 || result.effects !== result.events || result.leftOnBus !== 0) process.exitCode = 1;
} finally {
  await bus.cleanup();
  await handle.close();
  await new Promise((resolve) => setTimeout(resolve, 500)); // let pg-pool's sockets close before DROP … FORCE
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
