import type { Config } from '../../platform/config/config.js';
import { migrations } from '../../platform/db/migrations/index.js';
import { migrateDown, migrateUp, migrationStatus } from '../../platform/db/migrator.js';
import { ensureEventLogPartitions } from '../../platform/db/partitions.js';
import { dataAccess } from './data-access.js';

export const migrateUsage = 'migrate up|down|status';

interface StatusLine {
  name: string;
  applied_at: string | null;
}

/**
 * `migrate up|down|status`: prints what it did, one line per migration. When a running
 * service holds the embedded `DATA_DIR`, `status` asks that service; `up` and `down`
 * refuse, since the schema must not change under a running service.
 */
export async function migrateCommand(config: Config, args: string[], out: (line: string) => void): Promise<void> {
  const action = args[0];
  if ((action !== 'up' && action !== 'down' && action !== 'status') || args.length > 1) {
    throw new Error(`usage: ${migrateUsage}`);
  }
  const access = await dataAccess(config, `npm run migrate -- ${action}`);
  if (access.kind === 'service') {
    const { service } = access;
    if (action !== 'status') {
      throw new Error(
        `migrate ${action}: the service at ${service.holder.apiUrl} (process ${service.holder.pid}) holds DATA_DIR=${config.dataDir}; ` +
          `stop it first (it applies pending migrations itself when it starts${config.migrateOnStart ? '' : ' with MIGRATE_ON_START=1'})`,
      );
    }
    const { items } = await service.request<{ items: StatusLine[] }>('GET', '/v1/admin/migrations', { userId: 'cli:migrate', roles: ['admin'] });
    for (const m of items) out(`${m.applied_at ? 'applied' : 'pending'}  ${m.name}${m.applied_at ? `  ${m.applied_at}` : ''}`);
    return;
  }
  const { db } = access.handle;
  try {
    if (action === 'up') {
      const applied = await migrateUp(db, migrations);
      await ensureEventLogPartitions(db);
      out(applied.length > 0 ? applied.map((m) => `applied ${m}`).join('\n') : 'already up to date');
    } else if (action === 'down') {
      const reverted = await migrateDown(db, migrations);
      out(reverted.length > 0 ? reverted.map((m) => `reverted ${m}`).join('\n') : 'nothing to revert');
    } else {
      for (const m of await migrationStatus(db, migrations)) {
        out(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}${m.executedAt ? `  ${m.executedAt.toISOString()}` : ''}`);
      }
    }
  } finally {
    await access.handle.close();
  }
}
