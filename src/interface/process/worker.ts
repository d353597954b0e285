/**
 * `npm run worker`: the outbox relay and the consumers (`CONSUMERS=a,b` picks some),
 * no HTTP. Any number may run against one database and bus: one relay is active at a
 * time and consumers of the same name share the work. SIGTERM/SIGINT drain.
 */
import closeWithGrace from 'close-with-grace';
import type { Config } from '../../config.js';
import { openDatabase, scheduleMaintenance } from '../../infrastructure/db/open-database.js';
import { createLogger } from '../../infrastructure/logger.js';
import { eventSideFor, startEventSide } from './event-side.js';
import { startOpsHttp } from './ops-http.js';

export async function startWorker(config: Config): Promise<void> {
  const startedAt = performance.now();
  const logger = createLogger(config.logLevel);
  const options = eventSideFor('worker', config);
  const database = await openDatabase(config, logger);
  const stopMaintenance = scheduleMaintenance(database, logger, config);
  const eventSide = await startEventSide(config, database, logger, options);
  const http =
    config.metricsPort === undefined
      ? undefined
      : await startOpsHttp({ port: config.metricsPort, host: config.host, logger, database, metrics: eventSide.metrics, checks: eventSide.checks });

  closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'stopping after an error');
    logger.info({ signal }, 'shutting down: draining deliveries');
    stopMaintenance();
    await http?.close();
    await eventSide.stop();
    await database.close();
    logger.info('stopped');
  });

  logger.info({ engine: database.engine, bus: eventSide.bus.name, metrics_port: config.metricsPort, startup_ms: Math.round(performance.now() - startedAt) }, 'nedlia worker is ready');
}
