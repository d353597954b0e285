/**
 * `npm run api` and `npm run worker` on PostgreSQL through a TCP proxy of the test's
 * own, under 8 concurrent placement creates, while the link is cut (reset, then stall):
 * both processes stay up, requests during the cut answer 503 problem+json
 * `DEPENDENCY.UNAVAILABLE` within the budget, readiness says the database is down
 * within a second, the first request after the link returns succeeds, and the relay,
 * the LISTEN connection and the consumer resume, logging the fault once. Nothing
 * acknowledged is lost, no event is doubled or left behind.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EventTypes } from '../../src/features/catalog/index.js';
import type { TestDatabase } from '../support/engine.js';
import { freePort } from '../support/service-process.js';
import { startTcpProxy, type ProxyMode, type TcpProxy } from '../support/tcp-proxy.js';
import { openPostgresDatabase } from '../events/support.js';
import { fileIssuer, load, outageLog, post, spawnMode, stop, until, type ModeProcess, type Sample } from './support.js';

let database: TestDatabase;
let proxy: TcpProxy;
let issuer: Awaited<ReturnType<typeof fileIssuer>>;
let api: ModeProcess;
let worker: ModeProcess;
let apiUrl: string;
let workerOps: string;
let target: { video_id: string; product_id: string };

/** Generous bounds for a busy 2-core machine; the figures printed are what was measured. */
const DURING_CUT_MS = 4_000;
const FIRST_SUCCESS_MS = 5_000;
const READY_MS = 1_500;

beforeAll(async () => {
  database = await openPostgresDatabase();
  const url = new URL(database.url as string);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.host = `127.0.0.1:${proxy.port}`;
  issuer = await fileIssuer();
  const port = await freePort();
  const opsPort = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  workerOps = `http://127.0.0.1:${opsPort}`;
  const workerDir = path.join(issuer.env.DATA_DIR as string, 'worker');
  await mkdir(workerDir);
  const common = { ...issuer.env, DATABASE_URL: url.toString(), HOST: '127.0.0.1', RATE_LIMIT_MAX: '0' };
  const ready = async (base: string) => (await fetch(`${base}/health/ready`).catch(() => undefined))?.status === 200;
  // One after the other: two processes preparing a fresh database at once can race on its partitions.
  api = spawnMode('api', { ...common, PORT: String(port) });
  await until(async () => !api.alive() || (await ready(apiUrl)), 90_000, 'api ready');
  // The relay's and consumers' queries give up on a stalled link after 3 s instead of
  // the default 15 s, so that they resume within the test's time.
  worker = spawnMode('worker', { ...common, DATA_DIR: workerDir, METRICS_PORT: String(opsPort), DATABASE_BACKGROUND_QUERY_TIMEOUT_MS: '3000' });
  await until(async () => (await ready(apiUrl)) && (await ready(workerOps)), 90_000, `api and worker ready:\n${api.output()}\n${worker.output()}`);

  const token = issuer.adminToken;
  const advertiser = await post(`${apiUrl}/v1/advertisers`, token, { name: 'Acme', contact_email: 'ads@acme.test' });
  const product = await post(`${apiUrl}/v1/products`, token, { advertiser_id: advertiser.id, name: 'Cola' });
  const video = await post(`${apiUrl}/v1/videos`, token, { title: 'Trailer', duration: 60, status: 'ready' });
  expect([advertiser.status, product.status, video.status]).toEqual([201, 201, 201]);
  target = { video_id: video.id as string, product_id: product.id as string };
}, 120_000);

afterAll(async () => {
  await Promise.all([stop(api), stop(worker)]);
  await proxy?.close();
  await database?.close();
  await issuer?.cleanup();
});

const createPlacement = (): Promise<Sample> =>
  post(`${apiUrl}/v1/placements`, issuer.adminToken, { ...target, start_time: 1, end_time: 2 });

async function probe(url: string): Promise<{ ms: number; status: number; body: { detail?: string; errors?: Array<{ path: string }> } }> {
  const started = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { ms: performance.now() - started, status: res.status, body: (await res.json()) as { detail?: string } };
}

/** Every placement in the database is projected by the worker (relay + consumer caught up). */
async function caughtUp(): Promise<boolean> {
  const { rows } = await sql<{ missing: string }>`
    SELECT count(*) AS missing FROM placements p
    WHERE NOT EXISTS (SELECT 1 FROM placement_details d WHERE d.placement_id = p.id)`.execute(database.db);
  return Number(rows[0]?.missing) === 0;
}

const acknowledged = new Set<string>();
const figures: string[] = [];

async function cut(mode: ProxyMode): Promise<void> {
  const traffic = load(createPlacement, 8);
  const since = (t: number) => traffic.samples.filter((s) => s.startedAt >= t);
  const opened = performance.now();
  await until(() => since(opened).filter((s) => s.status === 201).length >= 8, 20_000, 'creates succeeding before the cut');

  const cutAt = performance.now();
  proxy.setMode(mode);
  // The cut lasts until 16 requests sent during it have been answered.
  await until(() => traffic.samples.filter((s) => s.startedAt > cutAt + 50).length >= 16, 60_000, 'requests answered during the cut');
  const ready = await probe(`${apiUrl}/health/ready`);
  const workerReady = await probe(`${workerOps}/health/ready`);
  const live = await probe(`${apiUrl}/health/live`);
  const workerLive = await probe(`${workerOps}/health/live`);

  const backAt = performance.now();
  proxy.setMode('pass');
  const firstSuccess = await until(
    () => traffic.samples.some((s) => s.startedAt >= backAt && s.status === 201),
    30_000,
    'a create succeeding after the link returned',
  );
  const first = traffic.samples.filter((s) => s.startedAt >= backAt && s.status === 201).sort((a, b) => a.startedAt + a.ms - (b.startedAt + b.ms))[0] as Sample;
  const firstDoneAfter = first.startedAt + first.ms - backAt;
  await until(() => since(backAt).filter((s) => s.status === 201).length >= 8, 20_000, 'creates succeeding after the cut');
  await traffic.stop();
  const resumed = await until(caughtUp, 60_000, 'the worker projecting every placement');

  for (const s of traffic.samples) if (s.status === 201) acknowledged.add(s.id as string);
  const during = traffic.samples.filter((s) => s.startedAt > cutAt + 50 && s.startedAt + s.ms < backAt);
  figures.push(
    `${mode}: ${during.length} requests during the cut, ${Math.min(...during.map((s) => s.ms)).toFixed(0)}–${Math.max(...during.map((s) => s.ms)).toFixed(0)} ms; ` +
      `ready ${ready.ms.toFixed(0)} ms (api), ${workerReady.ms.toFixed(0)} ms (worker); ` +
      `first success answered ${firstDoneAfter.toFixed(0)} ms after the link returned (seen after ${firstSuccess.toFixed(0)} ms); ` +
      `worker caught up ${resumed.toFixed(0)} ms after the load stopped`,
  );

  expect(api.alive() && worker.alive(), api.output() + worker.output()).toBe(true);
  // No request failed outside the contract: each is a 201 or a 503 DEPENDENCY.UNAVAILABLE problem.
  for (const s of traffic.samples) {
    if (s.status === 201) continue;
    expect(s).toMatchObject({ status: 503, code: 'DEPENDENCY.UNAVAILABLE', contentType: expect.stringContaining('application/problem+json') });
  }
  expect(during.length).toBeGreaterThanOrEqual(8);
  for (const s of during) {
    expect(s.status).toBe(503);
    expect(s.ms).toBeLessThan(DURING_CUT_MS);
  }
  for (const r of [ready, workerReady]) {
    expect(r.status).toBe(503);
    expect(r.body.detail).toContain('database');
    expect(r.ms).toBeLessThan(READY_MS);
  }
  expect([live.status, workerLive.status]).toEqual([200, 200]);
  expect(firstDoneAfter).toBeLessThan(FIRST_SUCCESS_MS);
}

it('a reset link, then a stalled one: no process dies, requests answer 503 quickly, everything resumes, nothing is lost or doubled', async () => {
  await cut('reset');
  await cut('stall');
  process.stdout.write(`${figures.join('\n')}\n`);

  // Nothing acknowledged is lost; each placement has exactly one created event, relayed once and handled once.
  const ids = [...acknowledged];
  const stored = await database.db.selectFrom('placements').select('id').where('id', 'in', ids).execute();
  expect(stored.length).toBe(ids.length);
  const { rows: events } = await sql<{ subject: string; n: string }>`
    SELECT aggregate_id::text AS subject, count(*) AS n FROM event_log WHERE event_type = ${EventTypes.placementCreated} GROUP BY 1`.execute(database.db);
  const placements = await database.db.selectFrom('placements').select('id').execute();
  expect(events.length).toBe(placements.length);
  expect(events.every((e) => Number(e.n) === 1)).toBe(true);
  const doubled = await sql`SELECT event_id FROM bus_events GROUP BY event_id HAVING count(*) > 1`.execute(database.db);
  expect(doubled.rows).toEqual([]);
  const { rows: relayed } = await sql<{ n: string }>`SELECT count(*) AS n FROM bus_events`.execute(database.db);
  const { rows: logged } = await sql<{ n: string }>`SELECT count(*) AS n FROM event_log`.execute(database.db);
  expect(Number(relayed[0]?.n)).toBe(Number(logged[0]?.n));
  await until(async () => (await sql`SELECT 1 FROM bus_queue LIMIT 1`.execute(database.db)).rows.length === 0, 30_000, 'an empty queue');
  expect((await sql`SELECT 1 FROM dead_letters`.execute(database.db)).rows).toEqual([]);

  // Each outage is logged once, and its end once: at least one per cut where the cut must be seen.
  const outages = [
    { proc: worker, down: 'outbox relay step failed; retrying until it succeeds', up: 'outbox relay works again', atLeast: 1, by: undefined },
    { proc: worker, down: 'postgres bus cannot claim deliveries; retrying until the database answers', up: 'postgres bus claims deliveries again', atLeast: 0, by: 'consumer' },
    { proc: api, down: 'row change notifications lost: read caches off until they are back', up: 'row change notifications restored: read caches on', atLeast: 1, by: 'caches' },
  ];
  for (const { proc, down, up, atLeast, by } of outages) {
    await until(() => { const log = outageLog(proc, down, up, by); return log.downs === log.ups; }, 20_000, `the end of "${down}" logged: ${outageLog(proc, down, up, by).sequence}`);
    const log = outageLog(proc, down, up, by);
    expect(log.alternates, `${down}: ${log.sequence}`).toBe(true);
    expect(log.downs).toBeGreaterThanOrEqual(atLeast);
  }
  expect(api.said('cannot listen for row changes: read caches stay off, retrying')).toEqual([]);
  expect(api.alive() && worker.alive()).toBe(true);
}, 240_000);
