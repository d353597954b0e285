/**
 * The three ways to run the service, chosen by the first argument of src/main.ts
 * (see process-mode.ts): `all` (default, `npm start`): API, relay and every consumer
 * in one process; `api` (`npm run api`): HTTP only; `worker` (`npm run worker`):
 * relay and consumers.
 */
import type { Config } from '../../config.js';
import type { DataDirLock } from '../../infrastructure/db/data-dir-lock.js';
import { startServer } from '../http/server.js';
import { eventSideFor, type ProcessMode } from './event-side.js';
import { startWorker } from './worker.js';

/** `lock`: embedded, the data directory's lock (only `all` runs embedded). */
export async function runProcess(config: Config, mode: ProcessMode, lock?: DataDirLock): Promise<void> {
  if (mode === 'worker') return startWorker(config);
  return startServer(config, eventSideFor(mode, config), lock);
}
