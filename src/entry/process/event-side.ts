/**
 * The event side of a process: the bus (always, so the API can replay dead letters),
 * and when asked the outbox relay and the consumers. Stopping drains: the relay
 * finishes its batch, consumers finish the deliveries in hand, then the bus closes.
 */
import type { Logger } from 'pino';
import type { Config } from '../../platform/config/config.js';
import { createBus } from '../../platform/bus/create-bus.js';
import type { EventBus } from '../../platform/bus/event-bus.js';
import { PostgresBus } from '../../platform/bus/postgres/postgres-bus.js';
import { allConsumers, consumerTopology, selectConsumers } from '../consumers.js';
import type { Consumer } from '../../platform/consumers/consumer.js';
import { ConsumerRuntime } from '../../platform/consumers/consumer-runtime.js';
import { asBackgroundWork, type DatabaseHandle } from '../../platform/db/connect.js';
import { Metrics } from '../../platform/metrics/metrics.js';
import { OutboxRelay } from '../../platform/outbox/outbox-relay.js';
import type { BackgroundWorker, RunningWorker } from '../../platform/workers/background-worker.js';
import { allWorkers } from '../workers.js';

export interface EventSideOptions {
  /** Run the outbox relay here (one is active at a time whatever the number of processes). */
  relay: boolean;
  /** Consumers to run here; none for an API-only process. */
  consumers: readonly Consumer[];
  /** Relay leadership lease (ms); a stand-by relay takes over this long after the active one died. */
  relayLeaseMs?: number;
  /** Background workers to run here (entry/workers.ts); none by default. */
  workers?: readonly BackgroundWorker[];
}

export interface EventSide {
  bus: EventBus;
  metrics: Metrics;
  /** Readiness checks for /health/ready. */
  checks: Record<string, () => Promise<void>>;
  stop(): Promise<void>;
}

export async function startEventSide(config: Config, database: DatabaseHandle, logger: Logger, options: EventSideOptions): Promise<EventSide> {
  const metrics = new Metrics({ defaultMetrics: true });
  const bus = await createBus(config.eventBus, { config, db: database.db, logger, topology: consumerTopology });
  const relay = options.relay ? new OutboxRelay(database.db, bus, { logger, ...(options.relayLeaseMs ? { leaseMs: options.relayLeaseMs } : {}) }) : undefined;
  const runtime = new ConsumerRuntime({ db: database.db, bus, logger, metrics });
  metrics.watch({
    ...(bus instanceof PostgresBus ? { queues: () => bus.queueStats() } : {}),
    outbox: () => (relay ?? new OutboxRelay(database.db, bus)).backlog(),
  });
  await runtime.start(options.consumers);
  relay?.start();
  const workers: RunningWorker[] = [];
  for (const worker of options.workers ?? []) workers.push(await worker.start({ config, database, logger, metrics }));
  const pruner =
    bus instanceof PostgresBus && options.relay
      ? asBackgroundWork(() =>
          setInterval(
            () =>
              void bus.pruneStream().catch((error: unknown) =>
                logger.warn({ err: error }, 'pruning the postgres bus stream failed; the next hourly run tries again'),
              ),
            3600_000,
          ),
        )
      : undefined;
  pruner?.unref();
  logger.info(
    { bus: bus.name, relay: options.relay, consumers: options.consumers.map((c) => c.name), workers: (options.workers ?? []).map((w) => w.name) },
    'event processing started',
  );
  return {
    bus,
    metrics,
    checks: { bus: () => bus.ping() },
    async stop() {
      if (pruner) clearInterval(pruner);
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await relay?.stop();
      await runtime.stop();
      await bus.close();
    },
  };
}

export type ProcessMode = 'all' | 'api' | 'worker';

/** What each mode runs: `all` (npm start) everything, `api` HTTP only, `worker` relay + consumers. */
export function eventSideFor(mode: ProcessMode, config: Config): EventSideOptions {
  if (mode === 'api') return { relay: false, consumers: [] };
  return { relay: true, consumers: selectConsumers(config.consumers, allConsumers), workers: allWorkers };
}
