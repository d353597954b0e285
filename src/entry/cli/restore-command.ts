/**
 * `restore FILE`: brings a backup of `backup` back as the embedded database of DATA_DIR.
 * Refused while a process holds DATA_DIR (stop the service first) and when DATA_DIR
 * already has a database (restore into a fresh DATA_DIR, or move `pgdata` aside): nothing
 * is overwritten. The backup's checksum is verified first and its row counts after.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { restoreDatabase } from '../../platform/backup/data-dir-backup.js';
import type { Config } from '../../platform/config/config.js';
import { acquireDataDirLock } from '../../platform/db/data-dir-lock.js';

export const restoreUsage = 'restore FILE   restore a backup into an empty DATA_DIR (the service stopped)';

export async function restoreCommand(config: Config, args: string[], out: (line: string) => void): Promise<void> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true });
  const [file] = positionals;
  if (!file || positionals.length > 1) throw new Error(`usage: npm run cli -- ${restoreUsage}`);
  if (config.databaseUrl) throw new Error('restore brings back an embedded database; unset DATABASE_URL and set DATA_DIR to where it goes');
  const lock = await acquireDataDirLock(config.dataDir, { command: 'npm run cli -- restore' });
  try {
    const result = await restoreDatabase(path.resolve(file), path.join(config.dataDir, 'pgdata'));
    const rows = Object.values(result.rows).reduce((sum, n) => sum + n, 0);
    out(`restored ${file} (taken ${result.manifest.taken_at}) into ${config.dataDir}: ${rows} rows in ${Object.keys(result.rows).length} tables, as the backup counted`);
  } finally {
    lock.release();
  }
}
