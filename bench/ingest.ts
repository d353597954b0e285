/**
 * `npm run bench:ingest`: event ingestion against the running service on PostgreSQL.
 *
 * A fresh database on BENCH_DATABASE_URL's server; the service as an `api` process
 * (and, for the matching phases, a `worker` process running the campaign matcher), each
 * a child with LOG_LEVEL=warn, limits off; autocannon in its own child process; a bare
 * `node:http` hello-world as the ceiling, measured the same way. In one run:
 * 1. single-event POSTs at BENCH_CONNECTIONS (64) connections: req/s and p99;
 * 2. batches of 100 events: events/s accepted;
 * 3. the worker starts on the backlog of 1 and 2: events/s charged until it is drained;
 * 4. a steady BENCH_STEADY_RATE (5,000) events/s (batches of 50) with the worker running:
 *    p50/p99 from acceptance to charge (`playback_charges.applied_at − playback_events.received_at`,
 *    both the transactions' start: the commit of the charge comes a few ms later).
 * BENCH_SECONDS (10) per measured phase after BENCH_WARMUP (2) seconds of warm-up.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { openDevIssuer } from '../src/platform/auth/dev-issuer.js';
import { freePort } from '../test/support/processes.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const STEADY_RATE = Number(process.env.BENCH_STEADY_RATE ?? 5000);
/** BENCH_CPU_PROF=<dir>: the api and worker processes write CPU profiles into <dir>/api and <dir>/worker (see npm run bench:profile); BENCH_PHASES=1,2 runs only those phases (3 and 4 need the worker). */
const CPU_PROF = process.env.BENCH_CPU_PROF;
const PHASES = new Set((process.env.BENCH_PHASES ?? '1,2,3,4').split(',').map((p) => p.trim()));
const PG_SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

/** autocannon in a child; every request gets new event ids (BENCH_LOAD.batch events, or one). */
const RUNNER = `
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
const load = JSON.parse(process.env.BENCH_LOAD);
const event = () => ({ id: randomUUID(), type: Math.random() < 0.9 ? 'impression' : 'click', placement_id: load.placements[Math.floor(Math.random() * load.placements.length)], video_id: load.video, occurred_at: new Date().toISOString() });
const body = () => JSON.stringify(load.batch ? { events: Array.from({ length: load.batch }, event) } : event());
const result = await autocannon({
  url: load.url, connections: load.connections, duration: load.duration, method: load.method ?? 'POST',
  headers: load.headers, ...(load.overallRate ? { overallRate: load.overallRate } : {}),
  requests: load.placements ? [{ setupRequest: (req) => ({ ...req, body: body() }) }] : [{ body: '{"hello":"world"}' }],
});
process.stdout.write(JSON.stringify({ rps: result.requests.average, total: result.requests.total, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts }));
`;

interface Figures { rps: number; total: number; p50: number; p99: number; non2xx: number; errors: number }

async function autocannon(load: Record<string, unknown>, duration: number): Promise<Figures> {
  const env = { ...process.env, BENCH_LOAD: JSON.stringify({ connections: CONNECTIONS, duration, ...load }) };
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', RUNNER], { env, cwd: ROOT, maxBuffer: 1 << 20, timeout: (duration + 60) * 1000 });
  if (!stdout.trim()) throw new Error(`autocannon printed nothing: ${stderr.slice(0, 500)}`);
  const f = JSON.parse(stdout) as Figures;
  return { ...f, rps: Math.round(f.rps) };
}

async function measure(label: string, load: Record<string, unknown>, duration = SECONDS): Promise<Figures> {
  console.error(`… ${label} (${WARMUP} s warm-up + ${duration} s)`);
  if (WARMUP > 0) await autocannon(load, WARMUP);
  return autocannon(load, duration);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.kill('SIGTERM');
  });
}

async function ceiling(): Promise<Figures> {
  const HELLO = `import http from 'node:http';
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"hello":"world"}'); }); });
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', HELLO], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve) => child.stdout!.once('data', (c: Buffer) => resolve(Number(/PORT (\d+)/.exec(c.toString())?.[1]))));
    return await measure('ceiling: node:http hello-world, POST', { url: `http://127.0.0.1:${port}/` });
  } finally {
    await stop(child);
  }
}

async function startProcess(mode: 'api' | 'worker', env: Record<string, string>): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const health = mode === 'worker' ? await freePort() : port;
  const profile = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.join(CPU_PROF, mode)}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/entry/main.ts', mode], {
    cwd: ROOT, env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), ...(mode === 'worker' ? { METRICS_PORT: String(health) } : {}) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${health}/health/ready`)).status === 200) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${mode} did not start`);
    await sleep(200);
  }
  return { child, base: `http://127.0.0.1:${port}` };
}

const dbName = `nedlia_bench_ingest_${randomUUID().slice(0, 8)}`;
const server = new pg.Client({ connectionString: PG_SERVER });
await server.connect();
await server.query(`CREATE DATABASE ${dbName}`);
const url = new URL(PG_SERVER);
url.pathname = `/${dbName}`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-bench-ingest-'));
const env = {
  DATABASE_URL: url.toString(), DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '0', INGEST_KEY_RATE_LIMIT_MAX: '0',
  DATABASE_POOL_SIZE: '10', EVENT_BUS: 'postgres', NODE_ENV: 'development',
};
const db = new pg.Client({ connectionString: url.toString() });
const children: ChildProcess[] = [];
try {
  const ceil = await ceiling();
  const api = await startProcess('api', env);
  children.push(api.child);
  await db.connect();
  const issuer = await openDevIssuer(dataDir, { create: false });
  const admin = await issuer.mint({ userId: 'bench-admin', roles: ['admin'] });
  const creatorId = 'bench-creator';
  const creator = await issuer.mint({ userId: creatorId, roles: ['creator'] });
  const post = async (p: string, token: string, body: unknown) => {
    const res = await fetch(`${api.base}${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`POST ${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; key?: string };
  };
  const advertiser = (await post('/v1/advertisers', admin, { name: 'Bench', contact_email: 'bench@example.test' })).id;
  const video = (await post('/v1/videos', creator, { title: 'Bench', duration: 3600, status: 'ready' })).id;
  const day = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
  const placements: string[] = [];
  for (let i = 0; i < 100; i++) {
    const product = (await post('/v1/products', admin, { advertiser_id: advertiser, name: `P${i}` })).id;
    await post('/v1/campaigns', admin, {
      advertiser_id: advertiser, name: `C${i}`, budget: '9999999999.00', start_date: day(-5), end_date: day(5), status: 'active', product_ids: [product],
      pricing: i % 2 === 0 ? { model: 'cpm', rate: '3.3333' } : { model: 'cpc', rate: '0.07' },
    });
    placements.push((await post('/v1/placements', creator, { video_id: video, product_id: product, start_time: i, end_time: i + 1 })).id);
  }
  const key = (await post('/v1/ingest-keys', admin, { creator_id: creatorId })).key as string;
  const headers = { 'content-type': 'application/json', 'x-nedlia-key': key };
  const load = { url: `${api.base}/v1/events`, headers, placements, video };

  const skipped: Figures = { rps: NaN, total: 0, p50: NaN, p99: NaN, non2xx: 0, errors: 0 };
  const single = PHASES.has('1') ? await measure(`single-event POSTs, ${CONNECTIONS} connections`, load) : skipped;
  const batches = PHASES.has('2') ? await measure(`batches of 100, ${CONNECTIONS} connections`, { ...load, batch: 100 }) : skipped;
  if (!PHASES.has('3')) {
    console.log(JSON.stringify({ ceiling: { rps: ceil.rps, p99_ms: ceil.p99 }, single_event: single, batches_of_100: { ...batches, events_per_s: batches.rps * 100 } }, null, 2));
  } else {
  const backlog = Number((await db.query('SELECT coalesce(sum(events), 0)::bigint AS n FROM ingest_batches')).rows[0].n);

  console.error(`… charging the backlog of ${backlog} events with a worker`);
  const started = performance.now();
  const worker = await startProcess('worker', { ...env, AUTH_DEV_ISSUER: '0', CONSUMERS: 'campaign-matcher' });
  children.push(worker.child);
  const readyAt = performance.now();
  for (;;) {
    const left = Number((await db.query('SELECT coalesce(sum(events), 0)::bigint AS n FROM ingest_batches')).rows[0].n);
    if (left === 0) break;
    await sleep(100);
  }
  const drainSeconds = (performance.now() - readyAt) / 1000;

  const rate = Math.max(1, Math.round(STEADY_RATE / 50));
  const steadyFrom = new Date();
  const steady = await measure(`steady ${STEADY_RATE} events/s (batches of 50) with the worker running`, { ...load, batch: 50, overallRate: rate, connections: 16 });
  for (let i = 0; i < 600; i++) {
    if (Number((await db.query('SELECT coalesce(sum(events), 0)::bigint AS n FROM ingest_batches')).rows[0].n) === 0) break;
    await sleep(100);
  }
  const latency = (await db.query(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, count(*) AS n
     FROM (SELECT extract(epoch from c.applied_at - e.received_at) * 1000 AS ms FROM playback_charges c JOIN playback_events e ON e.event_id = c.event_id
           WHERE e.received_at >= $1) x`, [steadyFrom])).rows[0];

  const figures = {
    ceiling: { rps: ceil.rps, p99_ms: ceil.p99 },
    single_event: { rps: single.rps, p50_ms: single.p50, p99_ms: single.p99, non2xx: single.non2xx, errors: single.errors },
    batches_of_100: { requests_per_s: batches.rps, events_per_s: batches.rps * 100, p99_ms: batches.p99, non2xx: batches.non2xx, errors: batches.errors },
    charging: { backlog_events: backlog, seconds: Number(drainSeconds.toFixed(1)), events_per_s: Math.round(backlog / drainSeconds), worker_start_s: Number(((readyAt - started) / 1000).toFixed(1)) },
    steady: { target_events_per_s: STEADY_RATE, events_per_s: steady.rps * 50, accept_p99_ms: steady.p99, to_charged_p50_ms: Math.round(Number(latency.p50)), to_charged_p99_ms: Math.round(Number(latency.p99)), events_measured: Number(latency.n) },
  };
  console.log(JSON.stringify(figures, null, 2));
  }
} finally {
  for (const c of children.reverse()) await stop(c);
  await db.end().catch(() => undefined);
  await server.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  await server.end();
  await rm(dataDir, { recursive: true, force: true });
}
