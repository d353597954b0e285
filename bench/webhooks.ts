/**
 * `npm run bench:webhooks`: the webhook dispatcher and the sync feed, per engine
 * (`BENCH_ENGINES=pglite,postgres`, both by default).
 *
 * 1. Deliveries per second to a local receiver that answers at once: N notifications
 *    queued for 1 and for 8 webhooks, from the dispatcher's start until the receiver got
 *    every one (signed, through the SSRF-guarded fetch; loopback allowed by name).
 * 2. One hanging receiver: 8 healthy webhooks and 1 that never answers (timeout
 *    `BENCH_HANG_TIMEOUT_MS`, default 2000), notifications queued at a steady rate; the
 *    healthy deliveries' latency (queued → received) p50/p99 against the same run
 *    without the hanging one. Goal: no delay beyond the hanging one's own timeout.
 * 3. `GET /v1/sync?limit=500` pages per second over 20,000 changes (HTTP, in-process).
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { sql } from 'kysely';
import { openPglite, openPostgres, type DatabaseHandle } from '../src/platform/db/connect.js';
import { migrations } from '../src/platform/db/migrations/index.js';
import { migrateUp } from '../src/platform/db/migrator.js';
import { loadConfig } from '../src/platform/config/config.js';
import { createOutboundFetch } from '../src/platform/outbound-fetch/guarded-fetch.js';
import { createJwtVerifier } from '../src/platform/auth/jwt-verifier.js';
import { buildApp } from '../src/entry/app.js';
import { WebhookDispatcher } from '../src/features/notifications/index.js';
import { recordNotification } from '../src/features/notifications/notifications/notification-repository.js';
import { newSecret } from '../src/features/notifications/webhooks/webhook-signing.js';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer } from '../test/support/tokens.js';

const ENGINES = (process.env.BENCH_ENGINES ?? 'pglite,postgres').split(',');
const COUNT = Number(process.env.BENCH_COUNT ?? 2000);
const HANG_TIMEOUT_MS = Number(process.env.BENCH_HANG_TIMEOUT_MS ?? 2000);
const SYNC_CHANGES = Number(process.env.BENCH_SYNC_CHANGES ?? 20_000);
const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = pino({ level: 'silent' });

/** A receiver that answers 200 at once, except on /hang (never); records when each message arrived. */
async function receiver() {
  const arrived = new Map<string, number>();
  const open = new Set<ServerResponse>();
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/hang') {
        open.add(res);
        res.on('close', () => open.delete(res));
        return;
      }
      arrived.set(`${req.url}|${String(req.headers['webhook-id'])}`, performance.now());
      res.writeHead(200).end();
    });
  });
  srv.keepAliveTimeout = 30_000;
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as AddressInfo).port;
  return {
    url: (p: string) => `http://127.0.0.1:${port}${p}`,
    arrived,
    async close() {
      for (const r of open) r.destroy();
      srv.closeAllConnections();
      srv.close();
    },
  };
}

async function webhooks(db: DatabaseHandle['db'], advertiserId: string, urls: string[]): Promise<string[]> {
  const rows = await db.insertInto('webhooks').values(urls.map((url) => ({ advertiser_id: advertiserId, url, event_types: ['*'], secret: newSecret(), created_by: 'bench' }))).returning('id').execute();
  return rows.map((r) => r.id);
}

async function queue(db: DatabaseHandle['db'], advertiserId: string, count: number): Promise<Map<string, number>> {
  const queuedAt = new Map<string, number>();
  for (let done = 0; done < count; done += 100) {
    await db.transaction().execute(async (tx) => {
      for (let i = done; i < Math.min(count, done + 100); i++) {
        const { notification } = await recordNotification(tx, { advertiser_id: advertiserId, event_id: randomUUID(), type: 'campaign.created', subject: randomUUID(), message: 'bench', data: { i } });
        queuedAt.set(notification!.id, performance.now());
      }
    });
  }
  return queuedAt;
}

const wait = async (done: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

async function freshAdvertiser(db: DatabaseHandle['db']): Promise<string> {
  await sql`UPDATE webhooks SET deleted_at = NOW() WHERE deleted_at IS NULL`.execute(db);
  return (await db.insertInto('advertisers').values({ name: 'Bench', contact_email: 'b@b.test' }).returning('id').executeTakeFirstOrThrow()).id;
}

async function throughput(db: DatabaseHandle['db'], hooks: number): Promise<Record<string, number | string>> {
  const rx = await receiver();
  const advertiser = await freshAdvertiser(db);
  const ids = await webhooks(db, advertiser, Array.from({ length: hooks }, (_, i) => rx.url(`/fast${i}`)));
  const notifications = Math.ceil(COUNT / hooks);
  await queue(db, advertiser, notifications);
  const fetch = createOutboundFetch({ allowHosts: ['127.0.0.1'], httpsOnly: false });
  const dispatcher = new WebhookDispatcher({ db, fetch, logger, pollMaxMs: 20 });
  const started = performance.now();
  dispatcher.start();
  await wait(() => rx.arrived.size >= notifications * ids.length, 300_000);
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.stop();
  await fetch.close();
  await rx.close();
  return { webhooks: hooks, deliveries: notifications * ids.length, seconds: Number(seconds.toFixed(2)), 'deliveries/s': Math.round((notifications * ids.length) / seconds) };
}

/** Healthy deliveries' latency with (or without) one hanging endpoint beside them. */
async function withHanging(db: DatabaseHandle['db'], hanging: boolean): Promise<Record<string, number | string>> {
  const rx = await receiver();
  const advertiser = await freshAdvertiser(db);
  const healthy = 8;
  await webhooks(db, advertiser, [...Array.from({ length: healthy }, (_, i) => rx.url(`/ok${i}`)), ...(hanging ? [rx.url('/hang')] : [])]);
  const fetch = createOutboundFetch({ allowHosts: ['127.0.0.1'], httpsOnly: false });
  const dispatcher = new WebhookDispatcher({ db, fetch, logger, pollMaxMs: 20, timeoutMs: HANG_TIMEOUT_MS });
  dispatcher.start();
  const queuedAt = new Map<string, number>();
  // 25 notifications a second for 4 s, each to every webhook.
  for (let i = 0; i < 100; i++) {
    for (const [id, t] of await queue(db, advertiser, 1)) queuedAt.set(id, t);
    dispatcher.wake();
    await new Promise((r) => setTimeout(r, 40));
  }
  const expected = queuedAt.size * healthy;
  const count = () => [...rx.arrived.keys()].filter((k) => k.startsWith('/ok')).length;
  await wait(() => count() >= expected, 300_000);
  const latencies = [...rx.arrived.entries()].filter(([k]) => k.startsWith('/ok')).map(([k, at]) => at - (queuedAt.get(k.split('|')[1]!) ?? at));
  await dispatcher.stop();
  await fetch.close();
  await rx.close();
  return {
    scenario: hanging ? `8 healthy + 1 hanging (timeout ${HANG_TIMEOUT_MS} ms)` : '8 healthy',
    deliveries: expected,
    'p50 ms': Math.round(percentile(latencies, 50)),
    'p99 ms': Math.round(percentile(latencies, 99)),
    'max ms': Math.round(Math.max(...latencies)),
  };
}

async function syncPages(handle: DatabaseHandle, dataDir: string): Promise<Record<string, number | string>> {
  const db = handle.db;
  await db.insertInto('users').values({ id: 'bench-creator' }).onConflict((oc) => oc.column('id').doNothing()).execute();
  for (let done = 0; done < SYNC_CHANGES; done += 1000) {
    await db.insertInto('videos').values(Array.from({ length: Math.min(1000, SYNC_CHANGES - done) }, (_, i) => ({ title: `v${done + i}`, duration: 10, owner_id: 'bench-creator' }))).execute();
  }
  const issuer = await createTestIssuer();
  const app = await buildApp({
    config: loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0', DATA_DIR: dataDir }), database: handle, logger,
    verifyToken: createJwtVerifier({ jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE }),
  });
  const token = await issuer.mint({ userId: 'bench-creator', roles: ['creator'] });
  let cursor: string | undefined;
  let pages = 0;
  let changes = 0;
  const started = performance.now();
  for (;;) {
    const res = await app.inject({ method: 'GET', url: `/v1/sync?limit=500${cursor ? `&cursor=${cursor}` : ''}`, headers: { authorization: `Bearer ${token}` } });
    const body = res.json() as { changes: unknown[]; next_cursor: string; has_more: boolean };
    pages++;
    changes += body.changes.length;
    cursor = body.next_cursor;
    if (!body.has_more) break;
  }
  const seconds = (performance.now() - started) / 1000;
  await app.close();
  return { changes, pages, seconds: Number(seconds.toFixed(2)), 'pages/s': Number((pages / seconds).toFixed(1)), 'changes/s': Math.round(changes / seconds) };
}

async function run(engine: string, handle: DatabaseHandle, dataDir: string) {
  await migrateUp(handle.db, migrations);
  const deliveries = [await throughput(handle.db, 1), await throughput(handle.db, 8)];
  const hanging = [await withHanging(handle.db, false), await withHanging(handle.db, true)];
  const sync = await syncPages(handle, dataDir);
  console.log(`\n${engine}: deliveries to a receiver that answers at once (concurrency 32, at most 4 in flight per endpoint)`);
  console.table(deliveries);
  console.log(`${engine}: healthy deliveries' latency, queued → received, 25 notifications/s for 4 s`);
  console.table(hanging);
  console.log(`${engine}: GET /v1/sync?limit=500 over ${SYNC_CHANGES} changes (a creator's own videos)`);
  console.table([sync]);
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-bench-webhooks-'));
try {
  if (ENGINES.includes('pglite')) {
    const embedded = await openPglite({ dataDir: path.join(dataDir, 'pgdata') });
    try {
      await run('pglite (file)', embedded, dataDir);
    } finally {
      await embedded.close();
    }
  }
  if (ENGINES.includes('postgres')) {
    const name = `nedlia_bench_webhooks_${process.pid}`;
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    const postgres = openPostgres({ connectionString: url.toString() });
    try {
      await run('postgres', postgres, dataDir);
    } finally {
      await postgres.close();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    }
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
