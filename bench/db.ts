/**
 * `npm run bench:db`: 10,000 single-row placement inserts through the repository,
 * one after another, on embedded PGlite (persisted to a temp dir, as `npm start`
 * does) and on PostgreSQL (a fresh database on BENCH_DATABASE_URL's server).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPglite, openPostgres, type DatabaseHandle } from '../src/platform/db/connect.js';
import { migrations } from '../src/platform/db/migrations/index.js';
import { migrateUp } from '../src/platform/db/migrator.js';
import { insertPlacement } from '../src/features/catalog/placements/placement-repository.js';

const COUNT = Number(process.env.BENCH_COUNT ?? 10_000);
const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function run(engine: string, handle: DatabaseHandle): Promise<Record<string, string | number>> {
  const db = handle.db;
  await migrateUp(db, migrations);
  const adv = await db.insertInto('advertisers').values({ name: 'Bench', contact_email: 'b@b.test' }).returning('id').executeTakeFirstOrThrow();
  const prod = await db.insertInto('products').values({ advertiser_id: adv.id, name: 'P', description: null, category: null, assets: '[]' }).returning('id').executeTakeFirstOrThrow();
  const vid = await db.insertInto('videos').values({ title: 'V', duration: 100_000, owner_id: null, source_url: null, metadata: '{}', analysis_status: null, failure_reason: null, media_path: null }).returning('id').executeTakeFirstOrThrow();
  const started = performance.now();
  for (let i = 0; i < COUNT; i++) {
    await insertPlacement(db, { videoId: vid.id, productId: prod.id, startTime: i, endTime: i + 0.5 });
  }
  const seconds = (performance.now() - started) / 1000;
  return { engine, inserts: COUNT, seconds: Number(seconds.toFixed(2)), 'inserts/s': Math.round(COUNT / seconds) };
}

const results: Record<string, string | number>[] = [];

const dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-bench-'));
const embedded = await openPglite({ dataDir: dir });
try {
  results.push(await run('pglite (file)', embedded));
} finally {
  await embedded.close();
  await rm(dir, { recursive: true, force: true });
}

const name = `nedlia_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const postgres = openPostgres({ connectionString: url.toString() });
try {
  results.push(await run('postgres', postgres));
} finally {
  await postgres.close();
  await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin.end();
}

console.table(results);
