/**
 * The three ways to run the service, chosen by the first argument of src/main.ts:
 * `all` (default, `npm start`): API, relay and every consumer in one process;
 * `api` (`npm run api`): HTTP only; `worker` (`npm run worker`): relay and consumers.
 */
import type { Config } from '../../config.js';
import { startServer } from '../http/server.js';
import { eventSideFor, type ProcessMode } from './event-side.js';
import { startWorker } from './worker.js';

const MODES: readonly ProcessMode[] = ['all', 'api', 'worker'];

export function parseMode(arg: string | undefined): ProcessMode {
  const mode = (arg ?? 'all') as ProcessMode;
  if (!MODES.includes(mode)) throw new Error(`unknown mode ${JSON.stringify(arg)}: use ${MODES.join(', ')}`);
  return mode;
}

export async function runProcess(config: Config, mode: ProcessMode): Promise<void> {
  if (mode === 'worker') return startWorker(config);
  return startServer(config, eventSideFor(mode, config));
}
