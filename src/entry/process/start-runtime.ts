/**
 * The one way a process starts, whatever it runs (the first argument of src/entry/main.ts,
 * see process-mode.ts): `all` (`npm start`: API, relay and every consumer), `api`
 * (`npm run api`: HTTP only) or `worker` (`npm run worker`: relay and consumers, no
 * public HTTP). It opens the database, starts the event side, serves what the mode
 * serves, and on SIGTERM/SIGINT stops taking requests, drains what is in hand, then
 * closes the database.
 */
import type { AddressInfo } from 'node:net';
import closeWithGrace from 'close-with-grace';
import type { Config } from '../../platform/config/config.js';
import { tokenVerificationFromConfig } from '../../platform/auth/token-verification.js';
import type { DataDirLock } from '../../platform/db/data-dir-lock.js';
import { openDatabase, scheduleMaintenance } from '../../platform/db/open-database.js';
import { createLogger } from '../../platform/logging/logger.js';
import { buildApp } from '../app.js';
import { eventSideFor, startEventSide, type ProcessMode } from './event-side.js';
import { startOpsHttp } from './ops-http.js';

/** `lock`: embedded, the data directory's lock src/entry/main.ts took (only `all` runs embedded). */
export async function startRuntime(config: Config, mode: ProcessMode, lock?: DataDirLock): Promise<void> {
  const logger = createLogger(config.logLevel);
  const phases = startupPhases();
  const serves = mode !== 'worker';
  // Keys first: a bad AUTH_JWKS_URL file stops the start before the database opens.
  const auth = serves ? await tokenVerificationFromConfig(config) : undefined;
  phases.mark('keys');
  if (auth && !auth.verifyToken) logger.warn('no token issuer configured (AUTH_JWKS_URL… or AUTH_DEV_ISSUER=1): protected routes answer 401');
  if (auth?.devIssuer) logger.warn({ issuer: auth.devIssuer.issuer, jwks: '/.well-known/jwks.json' }, 'development token issuer is on: mint tokens with `npm run cli -- token`');
  const database = await openDatabase(config, logger, { ...(lock ? { lock } : {}), mark: phases.mark });
  const stopMaintenance = scheduleMaintenance(database, logger, config);
  const eventSide = await startEventSide(config, database, logger, eventSideFor(mode, config));
  phases.mark('event side');
  const app = auth
    ? await buildApp({ config, database, logger, verifyToken: auth.verifyToken, devIssuer: auth.devIssuer, events: eventSide })
    : undefined;
  if (app) phases.mark('routes');
  const ops =
    config.metricsPort === undefined
      ? undefined
      : await startOpsHttp({ port: config.metricsPort, host: config.host, logger, database, metrics: eventSide.metrics, checks: eventSide.checks });

  closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'stopping after an error');
    logger.info({ signal }, serves ? 'shutting down: draining requests' : 'shutting down: draining deliveries');
    stopMaintenance();
    await app?.close();
    await ops?.close();
    await eventSide.stop();
    await database.close();
    logger.info('stopped');
  });

  const ready = { engine: database.engine, mode, bus: eventSide.bus.name, metrics_port: config.metricsPort };
  if (!app) {
    logger.info({ ...ready, ...phases.done() }, 'nedlia worker is ready');
    return;
  }
  await app.listen({ port: config.port, host: config.host });
  phases.mark('compile and listen');
  // Where the CLI finds this process when it finds DATA_DIR held (see entry/cli/).
  lock?.update({ apiUrl: localUrl(app.server.address(), config.host) });
  logger.info({ ...ready, port: config.port, ...phases.done() }, 'nedlia is ready');
}

/**
 * Where the start-up time went, for the ready line: `startup_ms` since the process
 * began (Node's own start and module loading included), and `startup_phases`, the
 * milliseconds of each step in order (`modules` is everything before this function).
 */
function startupPhases(): { mark(phase: string): void; done(): { startup_ms: number; startup_phases: Record<string, number> } } {
  const phases: Record<string, number> = {};
  let last = 0;
  const mark = (phase: string) => {
    const now = performance.now();
    phases[phase] = Math.round(now - last);
    last = now;
  };
  mark('modules');
  return { mark, done: () => ({ startup_ms: Math.round(performance.now()), startup_phases: phases }) };
}

/** A URL this machine reaches the listening server at (a wildcard host means loopback). */
function localUrl(address: string | AddressInfo | null, host: string): string {
  const port = typeof address === 'object' && address ? address.port : 0;
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const name = wildcard ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}
