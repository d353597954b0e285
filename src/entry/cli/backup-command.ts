/**
 * `backup [--out FILE]`: a consistent copy of the embedded database (DATA_DIR/pgdata) as a
 * gzipped tar with a manifest beside it (`FILE.json`: size, SHA-256, rows per table).
 * While a service runs on DATA_DIR the service takes it (`POST /v1/admin/backups`, into
 * DATA_DIR/backups/) and the command copies it to `--out`; otherwise the command opens
 * the directory itself. `restore FILE` brings one back (restore-command.ts).
 * A PostgreSQL server (`DATABASE_URL`) is backed up by the server: see docs/deployment.md.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { backupDatabase, backupName, type BackupManifest } from '../../platform/backup/data-dir-backup.js';
import type { Config } from '../../platform/config/config.js';
import { dataAccess } from './data-access.js';

export const backupUsage = 'backup [--out FILE]   copy the embedded database (DATA_DIR), also while the service runs';

export async function backupCommand(config: Config, args: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } }, allowPositionals: false });
  if (config.databaseUrl) {
    throw new Error('backup copies the embedded database; with DATABASE_URL use the server\'s backups (pg_dump, or point-in-time recovery on RDS/Aurora: docs/deployment.md)');
  }
  const target = values.out ? path.resolve(values.out) : undefined;
  const access = await dataAccess(config, 'npm run cli -- backup');
  let file: string;
  let manifest: Pick<BackupManifest, 'bytes' | 'sha256' | 'rows'>;
  if (access.kind === 'local') {
    try {
      file = target ?? path.join(config.dataDir, 'backups', backupName());
      manifest = await backupDatabase(access.handle, file);
    } finally {
      await access.handle.close();
    }
  } else {
    const actor = { userId: `cli:${userInfo().username}`, roles: ['admin' as const] };
    const taken = await access.service.request<{ file: string; bytes: number; sha256: string; rows: Record<string, number> }>('POST', '/v1/admin/backups', actor, {});
    file = taken.file;
    manifest = taken;
    if (target && target !== taken.file) {
      await copyFile(taken.file, target);
      await copyFile(`${taken.file}.json`, `${target}.json`);
      file = target;
    }
  }
  const rows = Object.values(manifest.rows).reduce((sum, n) => sum + n, 0);
  out(`backup ${file} (${manifest.bytes} bytes, sha256 ${manifest.sha256.slice(0, 16)}…, ${rows} rows in ${Object.keys(manifest.rows).length} tables)`);
}
