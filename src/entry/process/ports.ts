/**
 * Checks, before anything slow starts (keys, database, migrations), that the ports the
 * process will listen on are free, so that a port in use is reported at once and names
 * its variable rather than after the database has been opened.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Config } from '../../platform/config/config.js';

/** Binds `port` on `host` and lets it go again; throws a one-line error naming `variable` when it is taken. */
export async function assertPortFree(variable: string, port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  probe.unref();
  try {
    probe.listen({ port, host, exclusive: true });
    await once(probe, 'listening');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? `is already in use (another process listens there): stop it or set ${variable} to a free port`
        : code === 'EACCES'
          ? 'needs privileges this process does not have: use a port above 1023'
          : `cannot be listened on (${(error as Error).message})`;
    throw new Error(`${variable}=${port} on ${host} ${why}`);
  }
  probe.close();
  await once(probe, 'close');
}

/**
 * The ports the process of `mode` (the first argument of src/entry/main.ts) listens on: PORT
 * unless it is a worker, and METRICS_PORT when set. Imports nothing heavy, so main.ts
 * runs it before loading the service.
 */
export async function assertPortsFree(config: Pick<Config, 'port' | 'host' | 'metricsPort'>, mode: string | undefined): Promise<void> {
  if (mode !== 'worker') await assertPortFree('PORT', config.port, config.host);
  if (config.metricsPort !== undefined) await assertPortFree('METRICS_PORT', config.metricsPort, config.host);
}
