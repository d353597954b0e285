/**
 * The client-side query budget (`DATABASE_QUERY_TIMEOUT_MS`) is for requests. The
 * service's own work, which may wait longer (a lock, a slow batch), runs under the
 * background budget: migrations at start, maintenance, the relay, consumers. Each case
 * makes one of them wait past the request budget and expects it to complete, not fail.
 * Always the local PostgreSQL (two sessions).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config/config.js';
import { PostgresBus } from '../../src/platform/bus/postgres/postgres-bus.js';
import { ConsumerRuntime } from '../../src/platform/consumers/consumer-runtime.js';
import type { Consumer } from '../../src/platform/consumers/consumer.js';
import { openPostgres, type DatabaseHandle } from '../../src/platform/db/connect.js';
import { insertEvents } from '../../src/platform/events/event-log.js';
import { openDatabase, scheduleMaintenance } from '../../src/platform/db/open-database.js';
import { OutboxRelay } from '../../src/platform/outbox/outbox-relay.js';
import type { TestDatabase } from '../support/engine.js';
import { capturingLogger, eventually, openPostgresDatabase, placementCreated } from '../events/support.js';

const REQUEST_BUDGET_MS = 250;
/** Longer than the request budget: what the service's own work is made to wait. */
const HOLD_S = 0.8;

let database: TestDatabase;
let service: DatabaseHandle;

beforeAll(async () => {
  database = await openPostgresDatabase();
  service = openPostgres({
    connectionString: database.url as string,
    max: 6,
    timeouts: { queryMs: REQUEST_BUDGET_MS, backgroundQueryMs: 20_000 },
  });
});

afterAll(async () => {
  await service?.close();
  await database?.close();
});

/** Holds `table` locked for HOLD_S from another session; resolves once the lock is taken. */
async function holdLock(table: string): Promise<{ released: Promise<void> }> {
  let taken!: () => void;
  const isTaken = new Promise<void>((resolve) => (taken = resolve));
  const released = database.db.transaction().execute(async (tx) => {
    await sql.raw(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`).execute(tx);
    taken();
    await sql`SELECT pg_sleep(${HOLD_S})`.execute(tx);
  });
  await isTaken;
  return { released };
}

const failures = (lines: Record<string, unknown>[]) => lines.filter((l) => Number(l.level) >= 40);

it('a request query is cut at the request budget', async () => {
  await expect(sql`SELECT pg_sleep(${HOLD_S})`.execute(service.db)).rejects.toThrow('Query read timeout');
});

it('start-up migrations wait past the request budget', async () => {
  const { logger } = capturingLogger();
  const config = loadConfig({ DATABASE_URL: database.url, DATABASE_QUERY_TIMEOUT_MS: String(REQUEST_BUDGET_MS), DATA_DIR: '/nonexistent' });
  const { released } = await holdLock('schema_migrations_lock');
  const opened = await openDatabase(config, logger);
  await released;
  await opened.close();
});

it('maintenance waits past the request budget', async () => {
  const { logger, lines } = capturingLogger();
  await sql`
    INSERT INTO idempotency_keys (caller, key, request_hash, expires_at)
    VALUES ('budget-test', 'expired', 'h', now() - interval '1 day')`.execute(database.db);
  const { released } = await holdLock('idempotency_keys');
  const stop = scheduleMaintenance(service, logger, { inboxRetentionDays: 14, deadLetterRetentionDays: 90 }, 100);
  try {
    await released;
    await eventually(
      async () => (await sql`SELECT 1 FROM idempotency_keys WHERE caller = 'budget-test'`.execute(database.db)).rows.length === 0,
      10_000,
      'the expired key purged',
    );
  } finally {
    stop();
  }
  expect(failures(lines)).toEqual([]);
});

it('the relay waits past the request budget', async () => {
  const { logger, lines } = capturingLogger();
  const bus = new PostgresBus(service.db);
  const relay = new OutboxRelay(service.db, bus, { name: `budget-${randomUUID().slice(0, 8)}`, logger });
  const event = placementCreated();
  await database.db.transaction().execute((tx) => insertEvents(tx, [event]));
  const { released } = await holdLock('outbox_relay_checkpoints');
  relay.start();
  try {
    await released;
    await eventually(
      async () => (await sql`SELECT 1 FROM bus_events WHERE event_id = ${event.id}`.execute(database.db)).rows.length > 0,
      10_000,
      'the event relayed',
    );
  } finally {
    await relay.stop();
  }
  expect(failures(lines)).toEqual([]);
});

it('a consumer handler may take longer than the request budget', async () => {
  const { logger, lines } = capturingLogger();
  const bus = new PostgresBus(service.db);
  const consumer: Consumer = {
    name: `budget-consumer-${randomUUID().slice(0, 8)}`,
    types: [placementCreated().type],
    async handle(_event, tx) {
      await sql`SELECT pg_sleep(${HOLD_S})`.execute(tx);
    },
  };
  const runtime = new ConsumerRuntime({ db: service.db, bus, logger });
  await runtime.start([consumer]);
  const event = placementCreated();
  try {
    await bus.publish([event]);
    await eventually(async () => lines.find((l) => l.msg === 'event handled' && l.event_id === event.id), 15_000, 'the event handled');
  } finally {
    await runtime.stop();
  }
  expect(lines.find((l) => l.msg === 'event handled' && l.event_id === event.id)).toMatchObject({ attempt: 1 });
  expect(failures(lines)).toEqual([]);
});
