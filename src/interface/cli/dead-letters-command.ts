/**
 * `dead-letters list [--status pending|replayed|discarded] [--consumer NAME] [--limit N]`,
 * `dead-letters show ID`, `dead-letters replay ID`, `dead-letters discard ID`.
 * The operator at the console acts as an admin (`cli:<os user>` in the audit columns).
 */
import { mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { Actor } from '../../application/actor.js';
import { discardDeadLetter, getDeadLetter, listDeadLetters, replayDeadLetter } from '../../application/events/dead-letters.js';
import type { Config } from '../../config.js';
import { createBus } from '../../infrastructure/bus/create-bus.js';
import { openPglite, openPostgres, type DatabaseHandle } from '../../infrastructure/db/connect.js';
import type { DeadLetterStatus } from '../../infrastructure/db/schema.js';

export const deadLettersUsage = 'dead-letters list [--status S] [--consumer NAME] [--limit N] | show ID | replay ID | discard ID';

async function open(config: Config): Promise<DatabaseHandle> {
  if (config.databaseUrl) return openPostgres({ connectionString: config.databaseUrl, max: 2 });
  const dir = path.join(config.dataDir, 'pgdata');
  await mkdir(dir, { recursive: true });
  return openPglite({ dataDir: dir });
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function deadLettersCommand(config: Config, args: string[], out: (line: string) => void): Promise<void> {
  const [action, id] = args;
  if (!action || !['list', 'show', 'replay', 'discard'].includes(action) || (action !== 'list' && !id)) {
    throw new Error(`usage: ${deadLettersUsage}`);
  }
  const actor: Actor = { userId: `cli:${userInfo().username}`, roles: ['admin'] };
  const handle = await open(config);
  try {
    const deps = { db: handle.db };
    if (action === 'list') {
      const status = option(args, 'status') as DeadLetterStatus | undefined;
      const consumer = option(args, 'consumer');
      const limit = Number(option(args, 'limit') ?? 50);
      const rows = await listDeadLetters(deps, actor, { limit, ...(status ? { status } : {}), ...(consumer ? { consumer } : {}) });
      if (rows.length === 0) out('no dead letters');
      for (const r of rows) {
        out(`${r.id}  ${r.status.padEnd(9)}  ${r.consumer}  ${r.event_type}  attempts=${r.attempts}  ${new Date(r.last_attempt_at).toISOString()}  ${r.error.split('\n')[0]}`);
      }
    } else if (action === 'show') {
      out(JSON.stringify(await getDeadLetter(deps, actor, id as string), null, 2));
    } else if (action === 'replay') {
      const bus = await createBus(config.eventBus, { config, db: handle.db });
      try {
        const row = await replayDeadLetter({ ...deps, bus }, actor, id as string);
        out(`replayed ${row.id} (event ${row.event_id} to ${config.eventBus})`);
      } finally {
        await bus.close();
      }
    } else {
      const row = await discardDeadLetter(deps, actor, id as string);
      out(`discarded ${row.id}`);
    }
  } finally {
    await handle.close();
  }
}
