/**
 * `npm run bench:faults`: `api` + `worker` on a fresh PostgreSQL database (of
 * BENCH_DATABASE_URL's server) through a TCP proxy, FAULT_CONCURRENCY (8) loops of
 * placement creates, and the link cut for FAULT_CUT_MS (10 s) in reset mode, then in
 * stall mode, FAULT_ROUNDS (1) times. Prints, per cut: the statuses and latencies of
 * the requests answered during it, readiness latency, the time from the link's return
 * to the first create answered 201, the time until the worker had projected every
 * placement; at the end, acknowledged writes missing and events doubled (both must be 0).
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startTcpProxy, type ProxyMode } from '../test/support/tcp-proxy.js';
import { fileIssuer, freePort, load, post, spawnMode, stop, until, type Sample } from '../test/faults/support.js';

const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const cutMs = Number(process.env.FAULT_CUT_MS ?? 10_000);
const rounds = Number(process.env.FAULT_ROUNDS ?? 1);
const concurrency = Number(process.env.FAULT_CONCURRENCY ?? 8);

const name = `nedlia_bench_faults_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const dbUrl = new URL(server);
dbUrl.pathname = `/${name}`;
const direct = new pg.Client({ connectionString: dbUrl.toString() });

const proxy = await startTcpProxy({ host: dbUrl.hostname, port: Number(dbUrl.port || 5432) });
const viaProxy = new URL(dbUrl.toString());
viaProxy.host = `127.0.0.1:${proxy.port}`;
const issuer = await fileIssuer();
const port = await freePort();
const opsPort = await freePort();
const apiUrl = `http://127.0.0.1:${port}`;
const workerDir = path.join(issuer.env.DATA_DIR as string, 'worker');
await mkdir(workerDir);
const common = { ...issuer.env, DATABASE_URL: viaProxy.toString(), HOST: '127.0.0.1', RATE_LIMIT_MAX: '0', LOG_LEVEL: 'warn' };
const ready = async (base: string) => (await fetch(`${base}/health/ready`).catch(() => undefined))?.status === 200;
// One after the other: two processes preparing a fresh database at once can race on its partitions.
const api = spawnMode('api', { ...common, PORT: String(port) });
await until(() => ready(apiUrl) || !api.alive(), 120_000, 'api ready');
const worker = spawnMode('worker', { ...common, DATA_DIR: workerDir, METRICS_PORT: String(opsPort), LOG_LEVEL: 'info' });

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
const ms = (n: number): string => `${n.toFixed(0)} ms`;

try {
  await until(async () => (await ready(apiUrl)) && (await ready(`http://127.0.0.1:${opsPort}`)), 120_000, 'api and worker ready').catch((error: unknown) => {
    throw new Error(`${String(error)}\napi:\n${api.output()}\nworker:\n${worker.output()}`);
  });
  await direct.connect();
  const token = issuer.adminToken;
  const advertiser = await post(`${apiUrl}/v1/advertisers`, token, { name: 'Acme', contact_email: 'ads@acme.test' });
  const product = await post(`${apiUrl}/v1/products`, token, { advertiser_id: advertiser.id, name: 'Cola' });
  const video = await post(`${apiUrl}/v1/videos`, token, { title: 'Trailer', duration: 60, status: 'ready' });
  const body = { video_id: video.id, product_id: product.id, start_time: 1, end_time: 2 };
  const acknowledged = new Set<string>();
  const caughtUp = async () =>
    Number(
      (await direct.query(`SELECT count(*) AS n FROM placements p WHERE NOT EXISTS (SELECT 1 FROM placement_details d WHERE d.placement_id = p.id)`))
        .rows[0].n,
    ) === 0;

  console.log(`cut ${cutMs} ms, ${concurrency} concurrent creates, ${rounds} round(s)`);
  for (let round = 1; round <= rounds; round++) {
    for (const mode of ['reset', 'stall'] as ProxyMode[]) {
      const traffic = load(() => post(`${apiUrl}/v1/placements`, token, body), concurrency);
      await sleep(1000); // traffic before the cut: part of the scenario, not a wait for a condition
      const cutAt = performance.now();
      proxy.setMode(mode);
      await sleep(cutMs / 2);
      const probeAt = performance.now();
      const readiness = await fetch(`${apiUrl}/health/ready`);
      const readyMs = performance.now() - probeAt;
      await sleep(cutMs / 2);
      const backAt = performance.now();
      proxy.setMode('pass');
      await until(() => traffic.samples.some((s) => s.startedAt >= backAt && s.status === 201), 60_000, 'a success after the cut');
      await sleep(1000);
      await traffic.stop();
      const stoppedAt = performance.now();
      await until(caughtUp, 120_000, 'the worker caught up');
      const caughtUpMs = performance.now() - stoppedAt;
      for (const s of traffic.samples) if (s.status === 201) acknowledged.add(s.id as string);
      const during = traffic.samples.filter((s) => s.startedAt > cutAt && s.startedAt + s.ms < backAt);
      const statuses = new Map<string, number>();
      for (const s of during) statuses.set(`${s.status}${s.code ? ` ${s.code}` : ''}`, (statuses.get(`${s.status}${s.code ? ` ${s.code}` : ''}`) ?? 0) + 1);
      const first = traffic.samples
        .filter((s: Sample) => s.startedAt >= backAt && s.status === 201)
        .map((s) => s.startedAt + s.ms - backAt)
        .sort((a, b) => a - b)[0] as number;
      const latencies = during.map((s) => s.ms);
      console.log(
        `round ${round} ${mode}: ${during.length} requests during the cut (${[...statuses].map(([k, v]) => `${v}× ${k}`).join(', ')}), ` +
          `p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}, max ${ms(Math.max(...latencies))}; ` +
          `ready ${readiness.status} in ${ms(readyMs)}; first 201 ${ms(first)} after the link returned; worker caught up ${ms(caughtUpMs)} after the load stopped; ` +
          `processes alive: api ${api.alive()}, worker ${worker.alive()}`,
      );
    }
  }
  const ids = [...acknowledged];
  const found = Number((await direct.query(`SELECT count(*) AS n FROM placements WHERE id = ANY($1::uuid[])`, [ids])).rows[0].n);
  const doubled = Number((await direct.query(`SELECT count(*) AS n FROM (SELECT event_id FROM bus_events GROUP BY 1 HAVING count(*) > 1) d`)).rows[0].n);
  const queuedNow = async () => Number((await direct.query(`SELECT count(*) AS n FROM bus_queue`)).rows[0].n);
  await until(async () => (await queuedNow()) === 0, 30_000, 'an empty queue').catch(() => undefined);
  const queued = await queuedNow();
  console.log(`acknowledged ${ids.length}, missing ${ids.length - found}; events relayed twice ${doubled}; left in the queue ${queued}`);
  const relayLogs = worker.lines().filter((l) => String(l.msg).startsWith('outbox relay')).length;
  console.log(`worker log lines about the relay: ${relayLogs}; api lines about row change notifications: ${api.lines().filter((l) => String(l.msg).startsWith('row change')).length}`);
} finally {
  await Promise.all([stop(api), stop(worker)]);
  await proxy.close();
  await direct.end().catch(() => undefined);
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  await issuer.cleanup();
}
