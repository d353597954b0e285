/**
 * The bus contract on the postgres bus, on the selected engine (DB=pglite|postgres).
 * One database per file; each isolated namespace starts from empty bus tables (tests in
 * a file run one after another). On PostgreSQL each opener call is its own connection
 * pool (another "process") and the SIGKILL test runs a subscriber in a child process;
 * PGlite is one process, so there the opener shares the instance and that test is skipped.
 */
import { sql } from 'kysely';
import { afterAll } from 'vitest';
import type { EventBus } from '../../src/platform/bus/event-bus.js';
import { PostgresBus } from '../../src/platform/bus/postgres/postgres-bus.js';
import { openPostgres } from '../../src/platform/db/connect.js';
import { engine, openTestDatabase } from '../support/engine.js';
import { defineBusContract, type OpenBus } from './bus-contract.js';

const database = await openTestDatabase();
afterAll(async () => {
  await database.close();
});

defineBusContract('postgres', {
  leaseMs: 1000,
  isolate: () => {
    // Started at once, so it is done long before a child process could subscribe.
    const emptied = sql`TRUNCATE bus_queue, bus_events, bus_subscriptions, consumer_inbox`.execute(database.db);
    const open = async (): Promise<EventBus> => {
      await emptied;
      if (engine === 'pglite' || !database.url) return new PostgresBus(database.db, { pollMaxMs: 50 });
      const handle = openPostgres({ connectionString: database.url, max: 5 });
      const bus = new PostgresBus(handle.db, { pollMaxMs: 50 });
      const closeBus = bus.close.bind(bus);
      bus.close = async () => {
        await closeBus();
        await handle.close();
      };
      return bus;
    };
    const url = database.url;
    const opener: OpenBus = url ? Object.assign(open, { child: () => ({ engine: 'postgres', options: { url } }) }) : open;
    return opener;
  },
});
