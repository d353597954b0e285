import type { Config } from '../../config.js';
import { openPglite, openPostgres, type DatabaseHandle } from '../../infrastructure/db/connect.js';
import { migrations } from '../../infrastructure/db/migrations/index.js';
import { migrateDown, migrateUp, migrationStatus } from '../../infrastructure/db/migrator.js';
import { ensureEventLogPartitions } from '../../infrastructure/db/partitions.js';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';

async function open(config: Config): Promise<DatabaseHandle> {
  if (config.databaseUrl) return openPostgres({ connectionString: config.databaseUrl, max: 1 });
  const dir = path.join(config.dataDir, 'pgdata');
  await mkdir(dir, { recursive: true });
  return openPglite({ dataDir: dir });
}

export const migrateUsage = 'migrate up|down|status';

/** `migrate up|down|status`: prints what it did, one line per migration. */
export async function migrateCommand(config: Config, args: string[], out: (line: string) => void): Promise<void> {
  const action = args[0];
  if (action !== 'up' && action !== 'down' && action !== 'status') {
    throw new Error(`usage: ${migrateUsage}`);
  }
  const handle = await open(config);
  try {
    if (action === 'up') {
      const applied = await migrateUp(handle.db, migrations);
      await ensureEventLogPartitions(handle.db);
      out(applied.length > 0 ? applied.map((m) => `applied ${m}`).join('\n') : 'already up to date');
    } else if (action === 'down') {
      const reverted = await migrateDown(handle.db, migrations);
      out(reverted.length > 0 ? reverted.map((m) => `reverted ${m}`).join('\n') : 'nothing to revert');
    } else {
      for (const m of await migrationStatus(handle.db, migrations)) {
        out(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}${m.executedAt ? `  ${m.executedAt.toISOString()}` : ''}`);
      }
    }
  } finally {
    await handle.close();
  }
}
