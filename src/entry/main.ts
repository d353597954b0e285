/** `npm start` (everything in one process), `npm run api`, `npm run worker`: see entry/process/start-runtime.ts. */
import { ConfigError, loadConfig } from '../platform/config/config.js';
import { claimDataDir } from '../platform/db/data-dir-lock.js';
import { assertPortsFree } from './process/ports.js';
import { assertModeFits, parseMode } from './process/process-mode.js';

try {
  const config = loadConfig();
  const mode = parseMode(process.argv[2]);
  assertModeFits(config, mode);
  // Before the service is even loaded: a port in use is known within a second.
  await assertPortsFree(config, mode);
  // Embedded: the data directory is this process's before anything in it is read or made.
  const lock = await claimDataDir(config, { command: 'npm start', devIssuer: config.auth.devIssuer });
  const { startRuntime } = await import('./process/start-runtime.js');
  await startRuntime(config, mode, lock);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
  } else {
    process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
}
