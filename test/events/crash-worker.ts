/**
 * The worker the crash test kills: the real event side (relay + the bus `EVENT_BUS` names,
 * under `BUS_NAMESPACE` on a broker + consumer runtime, as `npm run worker` composes it)
 * running the placement-details projector,
 * wrapped so that each application of its effect also writes one row to
 * `crash_effects` (no unique key: a second application would show as a second row).
 * Short leases so that a killed worker's deliveries come back quickly.
 */
import { pino } from 'pino';
import { loadConfig } from '../../src/platform/config/config.js';
import type { Consumer } from '../../src/platform/consumers/consumer.js';
import { placementDetailsProjector } from '../../src/features/catalog/placements/placement-details-projector.js';
import { openPostgres } from '../../src/platform/db/connect.js';
import { startEventSide } from '../../src/entry/process/event-side.js';

const config = loadConfig();
const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const database = openPostgres({ connectionString: config.databaseUrl as string, max: 6 });

const counted: Consumer = {
  ...placementDetailsProjector,
  leaseMs: 1000,
  concurrency: 8,
  maxAttempts: 50,
  async handle(event, tx, context) {
    await placementDetailsProjector.handle(event, tx, context);
    await tx.insertInto('crash_effects' as never).values({ event_id: event.id, attempt: context.attempt, pid: process.pid } as never).execute();
    // A little work inside the transaction, so kills land mid-transaction too.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
  },
};

const side = await startEventSide(config, database, logger, { relay: true, consumers: [counted], relayLeaseMs: 1000 });
process.stdout.write(`crash-worker ready ${process.pid}\n`);
const stop = async (): Promise<void> => {
  await side.stop();
  await database.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
