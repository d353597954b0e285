/**
 * Readiness during an outage: `/health/ready` answers within a second, naming what is
 * down, even when a check would hang (a stalled link, a broker that never answers);
 * `/health/live` stays 200; the failure is logged once, not at every probe.
 * Always the local PostgreSQL, through a TCP proxy of the test's own.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgres, type DatabaseHandle } from '../../src/platform/db/connect.js';
import { ProblemSchema } from '../../src/platform/http/problem.js';
import { healthRoutes } from '../../src/platform/http/routes/health-routes.js';
import { serverUrl } from '../support/engine.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { capturingLogger, eventually } from '../events/support.js';

let proxy: TcpProxy;
let handle: DatabaseHandle;
let app: FastifyInstance;
let busAnswers = true;
const { logger, lines } = capturingLogger();

beforeAll(async () => {
  const target = new URL(serverUrl);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const url = new URL(serverUrl);
  url.host = `127.0.0.1:${proxy.port}`;
  // No client-side query budget at all: the readiness route must bound its own wait.
  handle = openPostgres({ connectionString: url.toString(), max: 4, timeouts: { connectMs: 0, queryMs: 0 }, onIdleError: () => undefined });
  app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
  app.addSchema(ProblemSchema);
  await app.register(healthRoutes, {
    database: handle,
    checks: { bus: () => (busAnswers ? Promise.resolve() : new Promise<void>(() => undefined)) },
  });
});

afterAll(async () => {
  await app?.close();
  await handle?.close();
  await proxy?.close();
});

async function probe(path: string): Promise<{ ms: number; status: number; body: Record<string, unknown>; retryAfter?: string }> {
  const started = performance.now();
  const res = await app.inject({ method: 'GET', url: path });
  const retryAfter = res.headers['retry-after'];
  return { ms: performance.now() - started, status: res.statusCode, body: res.json(), ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
}

it('with the database stalled and the bus hanging, ready answers 503 within a second naming both; live stays 200', async () => {
  expect((await probe('/health/ready')).status).toBe(200);
  proxy.setMode('stall');
  busAnswers = false;
  const probes = [];
  for (let i = 0; i < 4; i++) probes.push(await probe('/health/ready'));
  for (const p of probes) {
    expect(p.status).toBe(503);
    expect(p.retryAfter).toBe('2');
    expect(p.body).toMatchObject({ code: 'SERVICE.NOT_READY', detail: 'not ready: database, bus did not answer' });
    expect(p.body.errors).toEqual([
      { path: '/checks/database', message: expect.stringContaining('did not answer within') },
      { path: '/checks/bus', message: expect.stringContaining('did not answer within') },
    ]);
    // The route's own bound is 800 ms; the assertion leaves room for a busy machine.
    expect(p.ms).toBeLessThan(1_500);
  }
  const live = await probe('/health/live');
  expect(live.status).toBe(200);
  process.stdout.write(`ready during the stall: ${probes.map((p) => p.ms.toFixed(0)).join(', ')} ms; live ${live.ms.toFixed(0)} ms\n`);
  // Logged when it went down, once per dependency, not at every probe.
  expect(lines.filter((l) => l.msg === 'readiness check failed').map((l) => l.check)).toEqual(['database', 'bus']);

  proxy.setMode('reset');
  proxy.setMode('pass');
  busAnswers = true;
  await eventually(async () => (await probe('/health/ready')).status === 200, 10_000, 'ready again');
  expect(lines.filter((l) => l.msg === 'readiness check passes again').map((l) => l.check).sort()).toEqual(['bus', 'database']);
});
