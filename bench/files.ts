/**
 * `npm run bench:files`: placement files, in one run.
 *
 * 1. Freshness: p50/p99 from a placement write's 201 to the new file being served
 *    (`GET /v1/videos/{id}/placement-file` polled every 2 ms until its ETag changes and
 *    it holds the placement). BENCH_WRITES writes (default 200), alternately a new
 *    placement and a change of one, one at a time. Embedded (PGlite in a temp dir,
 *    the Postgres-table bus, local storage) and on PostgreSQL + NATS JetStream (a fresh
 *    database on BENCH_DATABASE_URL's server, a namespace of its own). Goals: p99 ≤ 100
 *    ms embedded, ≤ 250 ms on PostgreSQL + a broker.
 * 2. Serving: `GET placement-file` req/s with and without `If-None-Match` (304 / 200),
 *    autocannon in a child process (10 connections, BENCH_SECONDS each after a
 *    BENCH_WARMUP), beside a bare `node:http` hello-world child measured the same way.
 *    Goal: ≥ 70% of it. Then the same two loads with the fast path closed (every request
 *    routed through Fastify, as before platform/http/fast-path.ts), for a before/after
 *    measured under the same load of the machine.
 *
 * The service runs in this process (API + relay + every consumer, as `npm start`); the
 * load generator and the hello-world are children. BENCH_ENGINES=pglite or postgres
 * runs one engine.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { buildApp } from '../src/entry/app.js';
import { allConsumers } from '../src/entry/consumers.js';
import { startEventSide } from '../src/entry/process/event-side.js';
import { placementFileConsumersWith } from '../src/features/placement-files/index.js';
import { createObjectStorage } from '../src/platform/storage/create-storage.js';
import { createJwtVerifier } from '../src/platform/auth/jwt-verifier.js';
import { loadConfig } from '../src/platform/config/config.js';
import { openPglite, openPostgres, type DatabaseHandle } from '../src/platform/db/connect.js';
import { migrations } from '../src/platform/db/migrations/index.js';
import { migrateUp } from '../src/platform/db/migrator.js';
import { ensureEventLogPartitions } from '../src/platform/db/partitions.js';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer } from '../test/support/tokens.js';

const WRITES = Number(process.env.BENCH_WRITES ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const ENGINES = (process.env.BENCH_ENGINES ?? 'pglite,postgres').split(',').map((e) => e.trim());
const PG_SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

const RUNNER = `
import autocannon from 'autocannon';
const load = JSON.parse(process.env.BENCH_LOAD);
const result = await autocannon({ url: load.url, connections: 10, duration: load.duration, headers: load.headers });
process.stdout.write(JSON.stringify({ rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, statuses: { '2xx': result['2xx'], '3xx': result['3xx'] }, errors: result.errors + result.timeouts }));
`;

interface Load {
  rps: number;
  p99: number;
  non2xx: number;
  statuses: Record<string, number>;
  errors: number;
}

async function cannon(url: string, headers: Record<string, string> = {}): Promise<Load> {
  const go = async (duration: number) => {
    const env = { ...process.env, BENCH_LOAD: JSON.stringify({ url, duration, headers }) };
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', RUNNER], { env, cwd: ROOT, timeout: (duration + 30) * 1000 });
    return JSON.parse(stdout) as Load;
  };
  if (WARMUP > 0) await go(WARMUP);
  return go(SECONDS);
}

const HELLO = `
import http from 'node:http';
const server = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"hello":"world"}'); });
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
`;

async function ceiling(): Promise<number> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HELLO], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(Number(/PORT (\d+)/.exec(chunk.toString())?.[1]))));
    return Math.round((await cannon(`http://127.0.0.1:${port}/`)).rps);
  } finally {
    child.kill('SIGTERM');
  }
}

/** A bare node:http server answering every request with the same status, headers and body (BENCH_RESPONSE). */
const REPLAY = `
import http from 'node:http';
const { status, headers, body } = JSON.parse(process.env.BENCH_RESPONSE);
const bytes = Buffer.from(body, 'base64');
const server = http.createServer((_req, res) => { res.writeHead(status, headers); res.end(bytes.length > 0 ? bytes : undefined); });
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
`;

/** req/s of a bare node:http server sending exactly the bytes of `url`'s answer: the ceiling for a response of that size. */
async function replayCeiling(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  const kept = Object.fromEntries([...res.headers].filter(([name]) => !['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(name)));
  const env = { ...process.env, BENCH_RESPONSE: JSON.stringify({ status: res.status, headers: kept, body: body.toString('base64') }) };
  const child = spawn(process.execPath, ['--input-type=module', '-e', REPLAY], { stdio: ['ignore', 'pipe', 'inherit'], env });
  try {
    const port = await new Promise<number>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(Number(/PORT (\d+)/.exec(chunk.toString())?.[1]))));
    return Math.round((await cannon(`http://127.0.0.1:${port}/`)).rps);
  } finally {
    child.kill('SIGTERM');
  }
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function bench(engine: string, database: DatabaseHandle, env: Record<string, string>): Promise<Record<string, string | number>> {
  await migrateUp(database.db, migrations);
  await ensureEventLogPartitions(database.db);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-bench-files-'));
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '0', DATA_DIR: dataDir, ...env });
  const logger = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' });
  // Every consumer of the service; the generator writes to this run's storage.
  const storage = createObjectStorage(config);
  const consumers = [...allConsumers.filter((c) => c.name !== 'placement-file-generator'), ...placementFileConsumersWith(() => storage)];
  const side = await startEventSide(config, database, logger, { relay: true, consumers });
  const issuer = await createTestIssuer();
  const app = await buildApp({ config, database, logger, verifyToken: createJwtVerifier({ jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE }), events: side });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const [advertiserId] = [(await database.db.insertInto('advertisers').values({ name: 'Bench', contact_email: 'b@bench.test' }).returning('id').executeTakeFirstOrThrow()).id];
    const advertiser = await issuer.mint({ userId: 'bench-adv', roles: ['advertiser'], advertiserId });
    const creator = await issuer.mint({ userId: `bench-creator-${randomUUID()}`, roles: ['creator'] });
    const call = async (token: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(base + url, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text}`);
      return JSON.parse(text) as { id: string };
    };
    const product = await call(advertiser, 'POST', '/v1/products', { name: 'Cola', category: 'drinks' });
    await call(advertiser, 'POST', '/v1/campaigns', { name: 'Always', budget: '1000.00', start_date: '2020-01-01', end_date: '2099-12-31', status: 'active', product_ids: [product.id], pricing: { model: 'cpm', rate: '1.00' } });
    const video = await call(creator, 'POST', '/v1/videos', { title: 'Bench', duration: 100_000 });
    const fileUrl = `${base}/v1/videos/${video.id}/placement-file`;

    let etag = '';
    const latencies: number[] = [];
    let placementId = '';
    // Write 0 warms up (first queries, first file, JIT) and is not counted.
    for (let i = 0; i <= WRITES; i++) {
      const change = i % 2 === 1;
      const body = change ? { end_time: i * 10 + 5 } : { video_id: video.id, product_id: product.id, start_time: i * 10, end_time: i * 10 + 2 };
      const marker = change ? `"end_time":${i * 10 + 5}` : undefined;
      const written = change
        ? await call(creator, 'PATCH', `/v1/placements/${placementId}`, body, { 'if-match': '*' })
        : await call(creator, 'POST', '/v1/placements', body);
      const started = performance.now();
      if (!change) placementId = written.id;
      for (;;) {
        const res = await fetch(fileUrl, { headers: etag ? { 'if-none-match': etag } : {} });
        if (res.status === 200) {
          const text = await res.text();
          const fresh = res.headers.get('etag') ?? '';
          etag = fresh;
          if (text.includes(marker ?? placementId)) break;
        } else {
          await res.arrayBuffer();
        }
        if (performance.now() - started > 30_000) throw new Error(`write ${i} not served within 30 s`);
        await sleep(2);
      }
      if (i > 0) latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    const files = await database.db.selectFrom('placement_files').select('version').where('video_id', '=', video.id).executeTakeFirstOrThrow();

    const plain = await cannon(fileUrl);
    const cached = await cannon(fileUrl, { 'if-none-match': etag });
    // The same bytes from a bare node:http server: what any server in Node could reach for responses of this size.
    const fileBytes = Buffer.byteLength(await (await fetch(fileUrl)).text());
    const replay200 = await replayCeiling(fileUrl);
    const replay304 = await replayCeiling(fileUrl, { 'if-none-match': etag });
    // The same reads with the fast path closed (every request routed through Fastify), for a before/after in one run.
    app.fastPath.close();
    const routedPlain = await cannon(fileUrl);
    const routedCached = await cannon(fileUrl, { 'if-none-match': etag });
    return {
      engine,
      writes: WRITES,
      'files written': files.version,
      'fresh p50 ms': Number(quantile(latencies, 0.5).toFixed(1)),
      'fresh p99 ms': Number(quantile(latencies, 0.99).toFixed(1)),
      'GET 200 req/s': Math.round(plain.rps),
      'GET 304 req/s': Math.round(cached.rps),
      '304 answered': cached.statuses['3xx'] ?? 0,
      'file bytes': fileBytes,
      'same bytes node:http 200 req/s': replay200,
      'same bytes node:http 304 req/s': replay304,
      'routed 200 req/s': Math.round(routedPlain.rps),
      'routed 304 req/s': Math.round(routedCached.rps),
      errors: plain.errors + cached.errors + plain.non2xx + routedPlain.errors + routedCached.errors + routedPlain.non2xx,
    };
  } finally {
    await app.close();
    await side.stop();
    storage.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const results: Record<string, string | number>[] = [];
const helloBefore = await ceiling();
if (ENGINES.includes('pglite')) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-bench-pglite-'));
  const database = await openPglite({ dataDir: dir });
  try {
    results.push(await bench('embedded (PGlite, postgres bus)', database, {}));
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}
if (ENGINES.includes('postgres')) {
  const name = `nedlia_bench_files_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_SERVER });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_SERVER);
  url.pathname = `/${name}`;
  const database = openPostgres({ connectionString: url.toString(), max: 10 });
  try {
    results.push(await bench('PostgreSQL + NATS JetStream', database, { DATABASE_URL: url.toString(), EVENT_BUS: 'nats', BUS_NAMESPACE: `benchfiles${process.pid}` }));
  } finally {
    await database.close();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}
const helloAfter = await ceiling();
const hello = Math.round((helloBefore + helloAfter) / 2);
for (const r of results) {
  r['node:http req/s'] = hello;
  r['200 vs node:http'] = `${Math.round(((r['GET 200 req/s'] as number) / hello) * 100)}%`;
  r['304 vs node:http'] = `${Math.round(((r['GET 304 req/s'] as number) / hello) * 100)}%`;
  r['200 vs same bytes'] = `${Math.round(((r['GET 200 req/s'] as number) / (r['same bytes node:http 200 req/s'] as number)) * 100)}%`;
  r['304 vs same bytes'] = `${Math.round(((r['GET 304 req/s'] as number) / (r['same bytes node:http 304 req/s'] as number)) * 100)}%`;
}
// One column per engine: the rows are many.
console.table(Object.fromEntries(Object.keys(results[0] ?? {}).map((key) => [key, Object.fromEntries(results.map((r) => [String(r.engine).split(' ')[0], r[key]]))])));
console.log(`node:http hello-world: ${helloBefore} req/s before, ${helloAfter} after. Goals: fresh p99 ≤ 100 ms embedded, ≤ 250 ms PostgreSQL + broker; GET ≥ 70% of node:http.`);
process.exit(0);
