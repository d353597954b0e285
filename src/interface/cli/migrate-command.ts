import type { Config } from '../../config.js';
import { migrations } from '../../infrastructure/db/migrations/index.js';
import { migrateDown, migrateUp, migrationStatus } from '../../infrastructure/db/migrator.js';
import { connectDatabase } from '../../infrastructure/db/open-database.js';
import { ensureEventLogPartitions } from '../../infrastructure/db/partitions.js';

export const migrateUsage = 'migrate up|down|status';

/** `migrate up|down|status`: prints what it did, one line per migration. */
export async function migrateCommand(config: Config, args: string[], out: (line: string) => void): Promise<void> {
  const action = args[0];
  if (action !== 'up' && action !== 'down' && action !== 'status') {
    throw new Error(`usage: ${migrateUsage}`);
  }
  const handle = await connectDatabase(config, { poolSize: 1 });
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
