/**
 * `restore-archive TABLE PARTITION [--into NAME]` (or `restore-archive MANIFEST_KEY`):
 * loads one archive back for audit into a new table, `<partition>_restored` by default,
 * after verifying the object against its manifest (platform/archive/archive-restore.ts).
 * The table stands beside the live ones (never attached); drop it when done.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { restoreArchive, type RestoredArchive } from '../../platform/archive/archive-restore.js';
import type { Config } from '../../platform/config/config.js';
import { asBackgroundWork, type DatabaseHandle } from '../../platform/db/connect.js';
import { DataDirInUseError } from '../../platform/db/data-dir-lock.js';
import { openDatabase } from '../../platform/db/open-database.js';
import { createObjectStorage } from '../../platform/storage/create-storage.js';

export const restoreArchiveUsage = 'restore-archive TABLE PARTITION [--into NAME] | restore-archive MANIFEST_KEY   load one archive back into a table for audit (verified first)';

/** The database for an archive command; refused while a service holds the embedded DATA_DIR. */
export async function openForArchive(config: Config, command: string): Promise<DatabaseHandle> {
  try {
    return await openDatabase(config, pino({ level: 'silent' }), { owner: { command } });
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    throw new Error(
      `${error.message}; the embedded database is one process's: that service archives by itself (a minute after start, then hourly); stop it to run ${command.replace('npm run cli -- ', '')} now`,
      { cause: error },
    );
  }
}

export async function restoreArchiveCommand(config: Config, args: string[], out: (line: string) => void): Promise<RestoredArchive> {
  const { values, positionals } = parseArgs({ args, options: { into: { type: 'string' } }, allowPositionals: true });
  if (positionals.length < 1 || positionals.length > 2) throw new Error(`usage: npm run cli -- ${restoreArchiveUsage}`);
  const request = positionals.length === 1
    ? { manifestKey: positionals[0] as string, into: values.into }
    : { table: positionals[0] as string, partition: positionals[1] as string, into: values.into };
  const handle = await openForArchive(config, 'npm run cli -- restore-archive');
  const storage = createObjectStorage(config);
  try {
    const restored = await asBackgroundWork(() => restoreArchive({ db: handle.db, storage }, request));
    const m = restored.manifest;
    out(`restored ${m.partition} (${m.table}, ${m.range.from.slice(0, 10)} to ${m.range.to.slice(0, 10)}) into table ${restored.table}: ${restored.rowCount} rows, checksums verified (archived ${m.createdAt})`);
    return restored;
  } finally {
    storage.close();
    await handle.close();
  }
}
