/**
 * `npm run bench:ingest-bank`: the long bank test of ingestion (same harness as
 * test/features/ingestion/bank.test.ts): BANK_EVENTS (10,000) events for BANK_CAMPAIGNS
 * (100) campaigns from BANK_CLIENTS (50) concurrent clients, BANK_DUPLICATES (0.2) of them
 * resent, some budgets crossed, the matcher's process killed with SIGKILL BANK_KILLS (5)
 * times. BANK_ENGINE=pglite|postgres (default postgres: an api and a worker process on a
 * new database of BENCH_DATABASE_URL's server), BANK_BUS=postgres|nats|redis|rabbitmq.
 * Prints the result; exits 1 when any check failed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrations } from '../src/platform/db/migrations/index.js';
import { migrateUp } from '../src/platform/db/migrator.js';
import { openPostgres } from '../src/platform/db/connect.js';
import { runBank } from '../test/features/ingestion/bank-harness.js';

const engine = (process.env.BANK_ENGINE ?? 'postgres') as 'pglite' | 'postgres';
const bus = (process.env.BANK_BUS ?? 'postgres') as 'postgres' | 'nats' | 'redis' | 'rabbitmq';
const PG_SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-bank-'));
const dbName = `nedlia_bank_${randomUUID().slice(0, 8)}`;
const server = new pg.Client({ connectionString: PG_SERVER });
let databaseUrl: string | undefined;
if (engine === 'postgres') {
  await server.connect();
  await server.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(PG_SERVER);
  url.pathname = `/${dbName}`;
  databaseUrl = url.toString();
  const handle = openPostgres({ connectionString: databaseUrl, max: 2 });
  await migrateUp(handle.db, migrations);
  await handle.close();
}
let failed = true;
try {
  const started = Date.now();
  const result = await runBank({
    engine, bus, dataDir, ...(databaseUrl ? { databaseUrl } : {}),
    campaigns: Number(process.env.BANK_CAMPAIGNS ?? 100),
    events: Number(process.env.BANK_EVENTS ?? 10_000),
    clients: Number(process.env.BANK_CLIENTS ?? 50),
    duplicateShare: Number(process.env.BANK_DUPLICATES ?? 0.2),
    kills: Number(process.env.BANK_KILLS ?? 5),
    log: (line) => console.error(`${((Date.now() - started) / 1000).toFixed(1)} s  ${line}`),
  });
  console.log(JSON.stringify({ engine, bus, ...result, errors: result.errors.length, seconds: Math.round((Date.now() - started) / 1000) }, null, 2));
  failed = result.failures.length > 0 || result.lost > 0 || result.deadLetters > 0 || result.acknowledged !== result.distinct;
} finally {
  if (engine === 'postgres') {
    await server.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await server.end();
  }
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
