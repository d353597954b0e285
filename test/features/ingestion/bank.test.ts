/**
 * The bank test, quick variant (the long one: `npm run bench:ingest-bank`): events for
 * campaigns from concurrent clients, a fifth of them resent, some budgets crossed, the
 * matcher's process killed with SIGKILL. On PGlite the embedded service (postgres bus),
 * killed once (each start of an embedded service costs seconds); with DB=postgres an api
 * and a worker process on a broker (Redis Streams), the worker killed once (the long run
 * kills more often).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine, openTestDatabase, type TestDatabase } from '../../support/engine.js';
import { runBank } from './bank-harness.js';

let dataDir: string;
let database: TestDatabase | undefined;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-bank-'));
  if (engine === 'postgres') database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe(`the bank test, quick (${engine})`, () => {
  // Small: most of the time goes to starting the service (PGlite) and to the restart after the kill.
  const events = engine === 'postgres' ? 1000 : 600;
  it('charges every distinct event exactly once, never past a budget, through duplicates and SIGKILLs', async () => {
    const result = await runBank({
      engine,
      dataDir,
      ...(database?.url ? { databaseUrl: database.url } : {}),
      bus: engine === 'postgres' ? 'redis' : 'postgres',
      campaigns: 9,
      events,
      clients: 20,
      duplicateShare: 0.2,
      kills: 1,
    });
    expect(result.failures).toEqual([]);
    expect(result.lost).toBe(0);
    expect(result.deadLetters).toBe(0);
    expect(result.acknowledged).toBe(result.distinct);
    expect(result.sent).toBe(events);
    expect(result.completed).toBeGreaterThan(0);
    expect(result.completed).toBeLessThan(9);
  }, 180_000);
});
