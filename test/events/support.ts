/**
 * Helpers for the event backbone tests: a migrated PostgreSQL database of their own
 * (for tests that need two sessions or two processes, whatever DB says), waiting
 * with a deadline, and events built the way commands build them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { pino, type Logger } from 'pino';
import { openPostgres } from '../../src/platform/db/connect.js';
import { migrations } from '../../src/platform/db/migrations/index.js';
import { migrateUp } from '../../src/platform/db/migrator.js';
import { ensureEventLogPartitions } from '../../src/platform/db/partitions.js';
import { buildEvent, insertEvents, type NewEvent } from '../../src/platform/events/event-log.js';
import type { Database } from '../../src/platform/db/schema.js';
import type { CloudEvent } from '../../src/platform/events/cloud-event.js';
import { EventTypes } from '../../src/features/catalog/index.js';
import { databaseUrl, withServer, type TestDatabase } from '../support/engine.js';

/** A fresh, migrated PostgreSQL database, dropped on close. */
export async function openPostgresDatabase(): Promise<TestDatabase> {
  const name = `nedlia_ev_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withServer((c) => c.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(name);
  const handle = openPostgres({ connectionString: url, max: 10 });
  await migrateUp(handle.db, migrations);
  await ensureEventLogPartitions(handle.db);
  return {
    ...handle,
    url,
    async close() {
      await handle.close();
      // pg-pool's end() resolves before its clients' sockets close: let them go before DROP … FORCE.
      await sleep(300);
      await withServer((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** Polls `probe` until it returns a truthy value; fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export const context = (correlationId: string = randomUUID()) => ({ correlationId, actor: 'user-1' });

export function placementCreated(placementId = randomUUID(), correlationId?: string): CloudEvent {
  return buildEvent(
    {
      type: EventTypes.placementCreated,
      subject: placementId,
      data: { placement_id: placementId, video_id: randomUUID(), product_id: randomUUID(), time_range: { start_time: 1, end_time: 2 } },
    } satisfies NewEvent,
    context(correlationId),
  );
}

/**
 * Placement-created events committed straight into the event log (`commit`), their
 * placement ids collected in `events`, and whether the read-model projector has handled
 * every one so far (`handledAll`).
 */
export function projectorLoad(db: Kysely<Database>, events: string[] = []): { events: string[]; commit(count: number): Promise<void>; handledAll(): Promise<boolean> } {
  return {
    events,
    async commit(count) {
      const batch = Array.from({ length: count }, () => placementCreated());
      await db.transaction().execute((tx) => insertEvents(tx, batch));
      events.push(...batch.map((e) => e.subject as string));
    },
    async handledAll() {
      const rows = await db.selectFrom('placement_details').select('placement_id').execute();
      const seen = new Set(rows.map((r) => r.placement_id));
      return events.every((id) => seen.has(id));
    },
  };
}

/** A pino logger whose JSON lines are collected in `lines`. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export const silentLogger = (): Logger => pino({ level: 'silent' });
