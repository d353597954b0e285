/**
 * The first argument of src/entry/main.ts: `all` (default, `npm start`), `api` or `worker`.
 * Imports nothing heavy (the type below is erased), so a wrong mode or a mode that
 * cannot run with this configuration is reported before the service is loaded.
 */
import type { Config } from '../../platform/config/config.js';
import type { ProcessMode } from './event-side.js';

const MODES: readonly ProcessMode[] = ['all', 'api', 'worker'];

export function parseMode(arg: string | undefined): ProcessMode {
  const mode = (arg ?? 'all') as ProcessMode;
  if (!MODES.includes(mode)) throw new Error(`unknown mode ${JSON.stringify(arg)}: use ${MODES.join(', ')}`);
  return mode;
}

/**
 * `api` and `worker` are halves of one service that meet in a shared database; the
 * embedded database belongs to one process, so without `DATABASE_URL` only `all` runs.
 */
export function assertModeFits(config: Pick<Config, 'databaseUrl' | 'dataDir'>, mode: ProcessMode): void {
  if (mode === 'all' || config.databaseUrl) return;
  throw new Error(
    `\`${mode}\` needs DATABASE_URL: the ${mode === 'api' ? 'API' : 'worker'} shares a PostgreSQL database with the other processes, ` +
      `while the embedded database (DATA_DIR=${config.dataDir}) is one process's. Run \`npm start\` for everything in one process, ` +
      'or set DATABASE_URL for api and worker',
  );
}
