/**
 * Crash test: a worker process is killed with SIGKILL at random moments while events
 * are committed, restarted each time, and in the end every event's effect happened
 * exactly once (effects counted per event id). It needs two processes on one database,
 * so it always runs on PostgreSQL (PGlite is single-process), whatever DB says.
 *
 * Once per bus: the postgres bus, and Redis Streams, NATS JetStream and RabbitMQ, each
 * under a namespace of its own that is removed afterwards. Each bus gets its own database.
 * The long variant: `node --import tsx bench/crash.ts` (`CRASH_BUS=redis`, …).
 */
import { describe, expect, it } from 'vitest';
import { CRASH_BUSES, openCrashBus, prepareCrashDatabase, runCrashScenario } from './crash-harness.js';
import { openPostgresDatabase } from './support.js';

const EVENTS = 2000;
const KILLS = 6;

describe('crash test (worker as a child process, on PostgreSQL)', () => {
  it.each(CRASH_BUSES)('applies every event exactly once across repeated SIGKILLs of the worker (%s bus)', async (kind) => {
    const database = await openPostgresDatabase();
    const bus = await openCrashBus(kind);
    try {
      await prepareCrashDatabase(database.db);
      const result = await runCrashScenario(database.db, { databaseUrl: database.url as string, bus, events: EVENTS, kills: KILLS, timeoutMs: 400_000 });
      process.stdout.write(`crash test: ${JSON.stringify({ ...result, wrong: result.wrong.length })}\n`);
      expect(result.kills).toBe(KILLS);
      expect(result.events).toBe(EVENTS);
      expect(result.wrong).toEqual([]);
      expect(result.effects).toBe(EVENTS);
      expect(result.projected).toBe(EVENTS);
      expect(result.deadLetters).toBe(0);
      expect(result.leftOnBus).toBe(0);
    } finally {
      await bus.cleanup();
      await database.close();
    }
  }, 420_000);
});
