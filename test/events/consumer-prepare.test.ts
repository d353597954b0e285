/**
 * A consumer's `prepare`: it runs before the delivery's transaction (the database is
 * free to answer other queries meanwhile, even on PGlite's one session), its result
 * reaches `handle`, a failure in it is retried like a failing handler, and a delivery
 * already in the inbox skips it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConsumerRuntime } from '../../src/platform/consumers/consumer-runtime.js';
import type { Consumer } from '../../src/platform/consumers/consumer.js';
import { PostgresBus } from '../../src/platform/bus/postgres/postgres-bus.js';
import { openTestDatabase, type TestDatabase } from '../support/engine.js';
import { placementCreated, silentLogger } from './support.js';

let database: TestDatabase;
let bus: PostgresBus;
beforeAll(async () => {
  database = await openTestDatabase();
  bus = new PostgresBus(database.db, { pollMaxMs: 20 });
});
afterAll(async () => {
  await bus?.close();
  await database?.close();
});

it('prepare runs outside the transaction, hands its result to handle, retries on failure and is skipped for a duplicate', async () => {
  const db = database.db;
  const seen: unknown[] = [];
  let prepares = 0;
  const consumer: Consumer = {
    name: `prepare-${Date.now()}`,
    types: ['com.nedlia.placement.created'],
    maxAttempts: 3,
    async prepare(_event, context) {
      prepares++;
      // No transaction is open: another statement on the database answers at once.
      const rows = await context.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).execute();
      expect(rows).toHaveLength(1);
      if (context.attempt === 1) throw new Error('transient');
      return { attempt: context.attempt, maxAttempts: context.maxAttempts };
    },
    async handle(_event, _tx, context) {
      seen.push(context.prepared);
    },
  };
  const runtime = new ConsumerRuntime({ db, bus, logger: silentLogger(), retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  const event = placementCreated();
  const delivery = { event, attempt: 1 };
  expect((await runtime.handleDelivery(consumer, delivery)).kind).toBe('retry');
  expect((await runtime.handleDelivery(consumer, { ...delivery, attempt: 2 })).kind).toBe('ack');
  expect(seen).toEqual([{ attempt: 2, maxAttempts: 3 }]);
  // Delivered again after it was handled: neither prepare nor handle runs.
  expect((await runtime.handleDelivery(consumer, { ...delivery, attempt: 3 })).kind).toBe('ack');
  expect(prepares).toBe(2);
  expect(seen).toHaveLength(1);
});
