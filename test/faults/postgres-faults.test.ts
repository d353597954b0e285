/**
 * PostgreSQL through a TCP proxy of the test's own: a connection cut or stalled at
 * any moment fails the work in flight quickly with an error the API maps to 503,
 * never stops the process, and the pool recovers by itself once the link is back.
 * Always the local PostgreSQL (a proxy needs a server), whatever `DB` says.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openPostgres, type DatabaseHandle } from '../../src/platform/db/connect.js';
import { isConnectionFault } from '../../src/platform/db/connection-faults.js';
import { toProblem } from '../../src/platform/http/problem.js';
import { serverUrl } from '../support/engine.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

let proxy: TcpProxy;
let handle: DatabaseHandle;
const lost: Error[] = [];

beforeAll(async () => {
  const target = new URL(serverUrl);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const url = new URL(serverUrl);
  url.host = `127.0.0.1:${proxy.port}`;
  handle = openPostgres({
    connectionString: url.toString(),
    max: 4,
    timeouts: { connectMs: 1_000, queryMs: 1_000 },
    onIdleError: (error) => lost.push(error),
  });
});

afterAll(async () => {
  await handle?.close();
  await proxy?.close();
});

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await work();
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

/** Polls until a query succeeds (bounded); returns the time it took. */
async function timeToFirstSuccess(limitMs = 10_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    try {
      await sql`SELECT 1`.execute(handle.db);
      return performance.now() - started;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`no success within ${limitMs} ms`);
}

function expectUnavailable(error: unknown): void {
  expect(isConnectionFault(error), String(error)).toBe(true);
  const body = toProblem(error, '/x');
  expect(body.status).toBe(503);
  expect(body.code).toBe('DEPENDENCY.UNAVAILABLE');
}

it('a connection cut between two statements of a transaction fails that transaction, not the process', async () => {
  await sql`SELECT 1`.execute(handle.db);
  let cut!: () => void;
  const cutDone = new Promise<void>((resolve) => (cut = resolve));
  const transaction = timed(() =>
    handle.db.transaction().execute(async (tx) => {
      await sql`SELECT 1`.execute(tx);
      proxy.setMode('reset');
      cut();
      // The checked-out connection's socket dies here, before the next statement.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await sql`SELECT 2`.execute(tx);
    }),
  );
  await cutDone;
  const { ms, error } = await transaction;
  expectUnavailable(error);
  expect(ms).toBeLessThan(2_000);
  // While the server is unreachable, a new query fails within the connect budget.
  const during = await timed(() => sql`SELECT 1`.execute(handle.db));
  expectUnavailable(during.error);
  expect(during.ms).toBeLessThan(2_000);
  proxy.setMode('pass');
  const recovery = await timeToFirstSuccess();
  process.stdout.write(`reset: transaction failed after ${ms.toFixed(0)} ms, a query during the cut after ${during.ms.toFixed(0)} ms; first success ${recovery.toFixed(0)} ms after the link returned\n`);
  expect(recovery).toBeLessThan(2_000);
  expect(lost.length).toBeGreaterThan(0);
});

it('a stalled link fails queries within the query budget and the pool recovers when bytes flow again', async () => {
  await sql`SELECT 1`.execute(handle.db);
  proxy.setMode('stall');
  const results = await Promise.all(Array.from({ length: 4 }, () => timed(() => sql`SELECT pg_sleep(0)`.execute(handle.db))));
  for (const { ms, error } of results) {
    expectUnavailable(error);
    expect(ms).toBeLessThan(2_500);
  }
  proxy.setMode('pass');
  const recovery = await timeToFirstSuccess();
  process.stdout.write(`stall: queries failed after ${Math.max(...results.map((r) => r.ms)).toFixed(0)} ms at most; first success ${recovery.toFixed(0)} ms after the link returned\n`);
  expect(recovery).toBeLessThan(2_000);
});
