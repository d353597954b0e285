/**
 * The scheduled functions of the serverless deployment (deploy/ schedules them):
 *
 * - the relay (every minute): publishes committed outbox events to the bus (EventBridge)
 *   until shortly before the invocation's time runs out, then stops; one relay is active at
 *   a time whatever the number of invocations (the relay's lease), so overlapping
 *   invocations are harmless;
 * - maintenance (hourly): the same tasks every long-running process runs (event_log
 *   partitions ahead, expired idempotency keys, expired inbox rows); invoked with
 *   `{"migrate":"up"}` it applies pending migrations first (the deployment's migrate step).
 */
import type { Context } from 'aws-lambda';
import { asBackgroundWork } from '../../platform/db/connect.js';
import { migrations } from '../../platform/db/migrations/index.js';
import { migrateUp } from '../../platform/db/migrator.js';
import { runMaintenance } from '../../platform/db/open-database.js';
import { OutboxRelay } from '../../platform/outbox/outbox-relay.js';
import { containerResources, flushLogs, type LambdaResources } from './lambda-resources.js';

/** Time left unused at the end of a relay invocation, for the last batch and the logs. */
const RELAY_MARGIN_MS = 5_000;
const IDLE_WAIT_MS = 200;

export function createRelayHandler(resources: () => Promise<LambdaResources> = containerResources) {
  let relay: OutboxRelay | undefined;
  return async (_event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'> & Partial<Context>): Promise<{ published: number }> => {
    context.callbackWaitsForEmptyEventLoop = false;
    const r = await resources();
    relay ??= new OutboxRelay(r.database.db, r.bus, { logger: r.logger });
    const until = Date.now() + Math.max(0, context.getRemainingTimeInMillis() - RELAY_MARGIN_MS);
    let published = 0;
    do {
      const count = await asBackgroundWork(() => relay!.relayOnce());
      if (count > 0) {
        published += count;
        continue;
      }
      // Nothing to publish, or another invocation holds the lease: look again shortly.
      await new Promise((resolve) => setTimeout(resolve, Math.min(IDLE_WAIT_MS, Math.max(0, until - Date.now()))));
    } while (Date.now() < until);
    r.logger.info({ published }, 'relay invocation done');
    await flushLogs(r.logger);
    return { published };
  };
}

export function createMaintenanceHandler(resources: () => Promise<LambdaResources> = containerResources) {
  return async (event: { migrate?: 'up' } | undefined, context?: Partial<Context>): Promise<{ applied: string[] }> => {
    if (context) context.callbackWaitsForEmptyEventLoop = false;
    const r = await resources();
    const applied = event?.migrate === 'up' ? await asBackgroundWork(() => migrateUp(r.database.db, migrations)) : [];
    if (applied.length > 0) r.logger.info({ applied }, 'migrations applied');
    await asBackgroundWork(() => runMaintenance(r.database, r.logger, r.config));
    await flushLogs(r.logger);
    return { applied };
  };
}

export const relayHandler = createRelayHandler();
export const maintenanceHandler = createMaintenanceHandler();
