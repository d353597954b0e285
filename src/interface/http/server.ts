/**
 * Runs the service: opens the database, serves HTTP, and on SIGTERM/SIGINT stops
 * accepting requests, finishes in-flight ones, then closes the database.
 */
import closeWithGrace from 'close-with-grace';
import type { Config } from '../../config.js';
import { openDatabase, scheduleMaintenance } from '../../infrastructure/db/open-database.js';
import { createLogger } from '../../infrastructure/logger.js';
import { buildApp } from './app.js';

export async function startServer(config: Config): Promise<void> {
  const startedAt = performance.now();
  const logger = createLogger(config.logLevel);
  const database = await openDatabase(config, logger);
  const stopMaintenance = scheduleMaintenance(database, logger);
  const app = await buildApp({ config, database, logger });

  closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'stopping after an error');
    logger.info({ signal }, 'shutting down: draining requests');
    stopMaintenance();
    await app.close();
    await database.close();
    logger.info('stopped');
  });

  await app.listen({ port: config.port, host: config.host });
  logger.info(
    { engine: database.engine, port: config.port, startup_ms: Math.round(performance.now() - startedAt) },
    'nedlia is ready',
  );
}
