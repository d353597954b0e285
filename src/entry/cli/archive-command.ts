/**
 * `archive [--dry-run]`: archives now every monthly partition past its table's retention
 * (src/entry/archive-policies.ts; platform/archive/partition-archiver.ts): detached,
 * exported to object storage as gzipped NDJSON with a manifest, read back and verified,
 * then dropped; partitions an earlier run left detached are finished first. `--dry-run`
 * lists what it would do and changes nothing. The embedded database is one process's: while
 * the service holds DATA_DIR it archives on its own schedule, and this command refuses.
 */
import { parseArgs } from 'node:util';
import { archivePartitions, type ArchiveRunResult } from '../../platform/archive/partition-archiver.js';
import type { Config } from '../../platform/config/config.js';
import { asBackgroundWork } from '../../platform/db/connect.js';
import { createObjectStorage } from '../../platform/storage/create-storage.js';
import { archivePolicies } from '../archive-policies.js';
import { openForArchive } from './restore-archive-command.js';

export const archiveUsage = 'archive [--dry-run]   archive every partition past its retention to object storage (verified), then drop it';

const day = (d: Date) => d.toISOString().slice(0, 10);

export async function archiveCommand(config: Config, args: string[], out: (line: string) => void): Promise<ArchiveRunResult> {
  const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean' } }, allowPositionals: false });
  const dryRun = values['dry-run'] === true;
  const handle = await openForArchive(config, 'npm run cli -- archive');
  const storage = createObjectStorage(config);
  try {
    const policies = archivePolicies(config);
    const result = await asBackgroundWork(() => archivePartitions({ db: handle.db, engine: handle.engine, storage }, policies, { dryRun }));
    if (result.busy) {
      out('another process is archiving now (the archiver\'s lock is held): nothing done');
      return result;
    }
    for (const p of result.planned) {
      const what = `${p.partition} (${p.table}, ${day(p.range.from)} to ${day(p.range.to)})`;
      if (dryRun) out(p.state === 'detached' ? `would finish ${what}: detached by an earlier run, not yet exported` : `would archive ${what}`);
    }
    for (const a of result.archived) out(`archived ${a.partition} (${a.table}): ${a.rowCount} rows to ${a.objectKey}, verified, table dropped${a.resumed ? ' (finished what an earlier run detached)' : ''}`);
    for (const h of result.held) out(`kept ${h.partition} (${h.table}): ${h.reason}`);
    for (const f of result.failed) out(`FAILED ${f.partition} (${f.table}): ${f.error}; nothing was dropped`);
    if (result.planned.length === 0) out('nothing past its retention');
    else if (dryRun) out(`dry run: ${result.planned.length} partition(s), nothing changed`);
    if (result.failed.length > 0) throw new Error(`${result.failed.length} partition(s) could not be archived (see above); they are kept and the next run tries again`);
    return result;
  } finally {
    storage.close();
    await handle.close();
  }
}
