/**
 * `npm run bench:api`: the HTTP API under load, as it runs in production.
 *
 * Three processes: this script (orchestration only), the service (`src/entry/main.ts api`, or `all` on PGlite,
 * started as a child with production settings: NODE_ENV=production, LOG_LEVEL=info
 * with its logs going to a file, the rate limiter on, tokens verified against a JWKS
 * file), and autocannon (one child per run, so load generation shares neither
 * event loop). The ceiling is a bare `node:http` hello-world, itself a child
 * process, measured the same way at the start and at the end of the run.
 *
 * Each engine gets a fresh database (embedded PGlite in a temp dir, then a new
 * database on BENCH_DATABASE_URL's PostgreSQL server), a seeded catalog, and three
 * scenarios: GET one placement, list the placements of a video (a page of 50),
 * POST a placement (a unique Idempotency-Key each). Every scenario runs a warm-up
 * (BENCH_WARMUP seconds, discarded) then BENCH_SECONDS measured.
 *
 * BENCH_ENGINES=postgres (or pglite) runs one engine only, BENCH_SCENARIOS=1 the
 * first scenario only (1 GET, 2 list, 3 POST); BENCH_CPU_PROF=<dir> starts the
 * service with `--cpu-prof` and writes its profile there; BENCH_LOG_LEVEL=warn shows
 * what the request log costs.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer, type TestIssuer } from '../test/support/tokens.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ENGINES = (process.env.BENCH_ENGINES ?? 'pglite,postgres').split(',').map((e) => e.trim());
const CPU_PROF = process.env.BENCH_CPU_PROF;
/** Which scenarios to run, by number: 1 GET one, 2 list, 3 POST. */
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? '1,2,3').split(',').map((s) => s.trim());
const PG_SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

/**
 * The service's settings, as production would run it. The rate limiter stays on
 * (its hooks are part of what is measured) with an allowance the bench cannot
 * reach: one caller sends every request here, far beyond a real client's 600/min.
 */
const SERVICE_ENV = {
  NODE_ENV: 'production',
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  RATE_LIMIT_MAX: '1000000000',
  DATABASE_POOL_SIZE: '10',
  MIGRATE_ON_START: '1',
  EVENT_BUS: 'postgres',
  HOST: '127.0.0.1',
};

interface Load {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  uniqueKeys?: boolean;
}
interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU time per request (µs) of the server process, the database backends, and autocannon. */
  cpu?: { server: number; database?: number; loader: number };
}

/** Processes whose CPU time a measurement reports: the server and the database backends (PostgreSQL only). */
interface CpuProbe {
  server: number;
  database?: () => Promise<number[]>;
}

const TICK_US = 10_000; // USER_HZ is 100 on Linux: /proc stat times are in 10 ms ticks.

/** User + system CPU time of `pids` in µs, from /proc (0 where it cannot be read). */
function cpuUs(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * TICK_US;
    } catch {
      // not Linux, or the process is gone
    }
  }
  return total;
}

/** autocannon through its API in a child process; each POST gets a fresh Idempotency-Key. */
const RUNNER = `
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
const load = JSON.parse(process.env.BENCH_LOAD);
const result = await autocannon({
  url: load.url, connections: load.connections, duration: load.duration, method: load.method ?? 'GET',
  headers: load.headers, body: load.body,
  requests: load.uniqueKeys ? [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': randomUUID() } }) }] : undefined,
});
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ rps: result.requests.average, total: result.requests.total, loaderUs: cpu.user + cpu.system, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts }));
`;

async function autocannon(url: string, load: Load, duration: number, probe?: CpuProbe): Promise<Figures> {
  const env = { ...process.env, BENCH_LOAD: JSON.stringify({ url, connections: CONNECTIONS, duration, ...load }) };
  const databasePids = probe?.database ? await probe.database() : [];
  const startCpu = probe ? { server: cpuUs([probe.server]), database: cpuUs(databasePids) } : undefined;
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', RUNNER], { env, cwd: ROOT, maxBuffer: 1024 * 1024, timeout: (duration + 30) * 1000 });
  if (!stdout.trim()) throw new Error(`autocannon printed nothing for ${url}: ${stderr.slice(0, 500)}`);
  const f = JSON.parse(stdout) as Figures & { total: number; loaderUs: number };
  const perRequest = (us: number) => Math.round(us / Math.max(1, f.total));
  const cpu = startCpu && probe
    ? {
        server: perRequest(cpuUs([probe.server]) - startCpu.server),
        ...(probe.database ? { database: perRequest(cpuUs(databasePids) - startCpu.database) } : {}),
        loader: perRequest(f.loaderUs),
      }
    : { server: NaN, loader: perRequest(f.loaderUs) };
  return { rps: Math.round(f.rps), p50: f.p50, p99: f.p99, non2xx: f.non2xx, errors: f.errors, cpu };
}

/** A warm-up run (discarded: JIT, pool connections, caches), then the measured one. */
async function measure(label: string, url: string, load: Load = {}, probe?: CpuProbe): Promise<Figures> {
  console.error(`… ${label}: ${load.method ?? 'GET'} ${new URL(url).pathname} (${WARMUP} s warm-up + ${SECONDS} s)`);
  if (WARMUP > 0) await autocannon(url, load, WARMUP);
  return autocannon(url, load, SECONDS, probe);
}

/** SIGTERM, then SIGKILL if the child has not exited within `timeoutMs`. */
function stopChild(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const HELLO = `
import http from 'node:http';
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"hello":"world"}');
});
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

async function ceiling(): Promise<Figures> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HELLO], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (chunk: Buffer) => resolve(Number(/PORT (\d+)/.exec(chunk.toString())?.[1])));
      child.once('exit', (code) => reject(new Error(`hello-world server exited (${code})`)));
    });
    return await measure('ceiling', `http://127.0.0.1:${port}/`, {}, { server: child.pid ?? 0 });
  } finally {
    await stopChild(child);
  }
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

interface Service {
  base: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * `src/entry/main.ts <mode>` in a child process, its logs in `logFile`; resolves when
 * /health/ready answers 200. PostgreSQL runs `api` (HTTP only); PGlite runs `all`, the
 * only mode that opens an embedded database (the worker side idles beside the API).
 */
async function startService(env: Record<string, string>, logFile: string, mode: 'api' | 'all' = 'api'): Promise<Service> {
  const port = await freePort();
  const log = createWriteStream(logFile);
  await new Promise((resolve) => log.once('open', resolve));
  const profiling = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profiling, '--import', 'tsx', 'src/entry/main.ts', mode], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...SERVICE_ENV, ...env, PORT: String(port) },
    stdio: ['ignore', log, log],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`the service exited during start: see ${logFile}`);
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`the service was not ready within 60 s: see ${logFile}`);
    }
    const ready = await fetch(`${base}/health/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    base,
    pid: child.pid ?? 0,
    async stop() {
      await stopChild(child);
      log.end();
    },
  };
}

async function seed(base: string, issuer: TestIssuer) {
  const admin = await issuer.mint({ userId: 'bench-admin', roles: ['admin'] });
  const creator = await issuer.mint({ userId: 'bench-creator', roles: ['creator'] });
  const call = async (token: string, url: string, body: unknown) => {
    const res = await fetch(`${base}${url}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`seed POST ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string };
  };
  const advertiser = await call(admin, '/v1/advertisers', { name: 'Bench', contact_email: 'bench@ads.test' });
  const product = await call(admin, '/v1/products', { advertiser_id: advertiser.id, name: 'Cola' });
  const video = await call(creator, '/v1/videos', { title: 'Bench', duration: 1_000_000 });
  let placementId = '';
  for (let i = 0; i < 200; i++) {
    placementId = (await call(creator, '/v1/placements', { video_id: video.id, product_id: product.id, start_time: i, end_time: i + 0.5 })).id;
  }
  return { creator, video, product, placementId };
}

async function scenarios(base: string, issuer: TestIssuer, probe: CpuProbe): Promise<Record<string, Figures>> {
  const { creator, video, product, placementId } = await seed(base, issuer);
  const auth = { authorization: `Bearer ${creator}` };
  const all: Record<string, [string, Load]> = {
    'GET one placement': [`${base}/v1/placements/${placementId}`, { headers: auth }],
    'list placements of a video (50)': [`${base}/v1/videos/${video.id}/placements`, { headers: auth }],
    'POST a placement': [
      `${base}/v1/placements`,
      {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ video_id: video.id, product_id: product.id, start_time: 1, end_time: 2, description: 'bench' }),
        uniqueKeys: true,
      },
    ],
  };
  const figures: Record<string, Figures> = {};
  for (const [index, [scenario, [url, load]]] of Object.entries(all).entries()) {
    if (SCENARIOS.includes(String(index + 1))) figures[scenario] = await measure(scenario, url, load, probe);
  }
  return figures;
}

/** Runs the scenarios against the service on a fresh embedded database; removes it after. */
async function onPglite(work: string, authEnv: Record<string, string>, issuer: TestIssuer) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-bench-api-pglite-'));
  try {
    const service = await startService({ ...authEnv, DATA_DIR: dataDir }, path.join(work, 'service-pglite.log'), 'all');
    try {
      return await scenarios(service.base, issuer, { server: service.pid });
    } finally {
      await service.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Runs the scenarios against the service on a fresh PostgreSQL database; drops it after. */
async function onPostgres(work: string, authEnv: Record<string, string>, issuer: TestIssuer) {
  const name = `nedlia_apibench_${process.pid}_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: PG_SERVER });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(PG_SERVER);
    url.pathname = `/${name}`;
    try {
      const service = await startService({ ...authEnv, DATABASE_URL: url.toString(), DATA_DIR: work }, path.join(work, 'service-postgres.log'));
      try {
        const backends = async () =>
          (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name])).rows.map((r) => r.pid);
        return await scenarios(service.base, issuer, { server: service.pid, database: backends });
      } finally {
        await service.stop();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

const work = await mkdtemp(path.join(os.tmpdir(), 'nedlia-bench-api-'));
const issuer = await createTestIssuer();
const jwksFile = path.join(work, 'jwks.json');
await writeFile(jwksFile, JSON.stringify(issuer.jwks));
const authEnv = { AUTH_JWKS_URL: pathToFileURL(jwksFile).toString(), AUTH_ISSUER: TEST_ISSUER, AUTH_AUDIENCE: TEST_AUDIENCE };

console.log(
  [
    `bench:api — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `autocannon: ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${SECONDS} s measured per scenario, in its own process`,
    `service: src/entry/main.ts api (all on PGlite) in its own process, ${Object.entries(SERVICE_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}, logs to a file, RS256 tokens from a JWKS file${CPU_PROF ? `, --cpu-prof into ${CPU_PROF}` : ''}`,
    `engines: ${ENGINES.join(', ')}, scenarios ${SCENARIOS.join(',')}; ceiling: node:http hello world in its own process, measured before and after`,
  ].join('\n'),
);

const rows: Record<string, string | number>[] = [];
const results: [string, Record<string, Figures>][] = [];
let before: Figures;
let after: Figures;
try {
  before = await ceiling();
  if (ENGINES.includes('pglite')) results.push(['pglite (file)', await onPglite(work, authEnv, issuer)]);
  if (ENGINES.includes('postgres')) results.push(['postgres', await onPostgres(work, authEnv, issuer)]);
  after = await ceiling();
} finally {
  if (!CPU_PROF) await rm(work, { recursive: true, force: true });
}

// The ceiling moves with whatever else the machine does: compare with the mean of both measurements.
const top = Math.round((before.rps + after.rps) / 2);
const cpuColumns = (f: Figures) => ({
  'server µs/req': f.cpu?.server ?? '',
  'db µs/req': f.cpu?.database ?? '',
  'autocannon µs/req': f.cpu?.loader ?? '',
});
const row = (engine: string, scenario: string, f: Figures, ratio: string) => ({
  engine, scenario, 'req/s': f.rps, 'p50 ms': f.p50, 'p99 ms': f.p99, 'vs ceiling': ratio, 'non-2xx': f.non2xx + f.errors, ...cpuColumns(f),
});
rows.push(row('-', 'node:http hello world (before)', before, ''));
rows.push(row('-', 'node:http hello world (after)', after, ''));
for (const [engine, figures] of results) {
  for (const [scenario, f] of Object.entries(figures)) rows.push(row(engine, scenario, f, `${Math.round((100 * f.rps) / top)}%`));
}
console.log(`ceiling = mean of before and after = ${top} req/s`);
console.table(rows);
console.log('µs/req: CPU time (user + system) of each process during the measured run, per request; db = the PostgreSQL backends of the pool.');
if (CPU_PROF) console.log(`service logs and CPU profiles kept in ${work} and ${CPU_PROF}`);
