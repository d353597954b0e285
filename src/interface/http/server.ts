/**
 * Runs the service: opens the database, serves HTTP, and on SIGTERM/SIGINT stops
 * accepting requests, finishes in-flight ones, then closes the database.
 */
import type { AddressInfo } from 'node:net';
import closeWithGrace from 'close-with-grace';
import type { Config } from '../../config.js';
import type { DataDirLock } from '../../infrastructure/db/data-dir-lock.js';
import { openDatabase, scheduleMaintenance } from '../../infrastructure/db/open-database.js';
import { createLogger } from '../../infrastructure/logger.js';
import { tokenVerificationFromConfig } from '../../infrastructure/auth/token-verification.js';
import { buildApp } from './app.js';
import { startEventSide, type EventSideOptions } from '../process/event-side.js';
import { startOpsHttp } from '../process/ops-http.js';

/**
 * `events`: what of the event side this process runs (see src/interface/process/); API
 * only by default. `lock`: embedded, the data directory's lock src/main.ts took.
 */
export async function startServer(config: Config, events: EventSideOptions = { relay: false, consumers: [] }, lock?: DataDirLock): Promise<void> {
  const startedAt = performance.now();
  const logger = createLogger(config.logLevel);
  // Keys first: a bad AUTH_JWKS_URL file stops the start before the database opens.
  const { verifyToken, devIssuer } = await tokenVerificationFromConfig(config);
  if (!verifyToken) logger.warn('no token issuer configured (AUTH_JWKS_URL… or AUTH_DEV_ISSUER=1): protected routes answer 401');
  if (devIssuer) logger.warn({ issuer: devIssuer.issuer, jwks: '/.well-known/jwks.json' }, 'development token issuer is on: mint tokens with `npm run cli -- token`');
  const database = await openDatabase(config, logger, lock ? { lock } : {});
  const stopMaintenance = scheduleMaintenance(database, logger, config);
  const eventSide = await startEventSide(config, database, logger, events);
  const app = await buildApp({ config, database, logger, verifyToken, devIssuer, events: eventSide });
  const ops =
    config.metricsPort === undefined
      ? undefined
      : await startOpsHttp({ port: config.metricsPort, host: config.host, logger, database, metrics: eventSide.metrics, checks: eventSide.checks });

  closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'stopping after an error');
    logger.info({ signal }, 'shutting down: draining requests');
    stopMaintenance();
    await app.close();
    await ops?.close();
    await eventSide.stop();
    await database.close();
    logger.info('stopped');
  });

  await app.listen({ port: config.port, host: config.host });
  // Where the CLI finds this process when it finds DATA_DIR held (see interface/cli/).
  lock?.update({ apiUrl: localUrl(app.server.address(), config.host) });
  logger.info(
    { engine: database.engine, port: config.port, startup_ms: Math.round(performance.now() - startedAt) },
    'nedlia is ready',
  );
}

/** A URL this machine reaches the listening server at (a wildcard host means loopback). */
function localUrl(address: string | AddressInfo | null, host: string): string {
  const port = typeof address === 'object' && address ? address.port : 0;
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const name = wildcard ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}
