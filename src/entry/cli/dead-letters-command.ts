/**
 * `dead-letters list [--status pending|replayed|discarded] [--consumer NAME] [--limit N]`,
 * `dead-letters show ID`, `dead-letters replay ID`, `dead-letters discard ID`.
 * The operator at the console acts as an admin (`cli:<os user>` in the audit columns).
 * When a running service holds the embedded `DATA_DIR`, the command goes through its
 * admin API (see data-access.ts).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { Actor } from '../../platform/events/command-context.js';
import { discardDeadLetter, getDeadLetter, listDeadLetters, replayDeadLetter } from '../../features/operations/index.js';
import type { Config } from '../../platform/config/config.js';
import { consumerTopology } from '../consumers.js';
import { createBus } from '../../platform/bus/create-bus.js';
import type { DatabaseHandle } from '../../platform/db/connect.js';
import type { DeadLetterStatus } from '../../platform/db/schema.js';
import { dataAccess, type RunningService } from './data-access.js';

export const deadLettersUsage = 'dead-letters list [--status S] [--consumer NAME] [--limit N] | show ID | replay ID | discard ID';

const STATUSES: readonly DeadLetterStatus[] = ['pending', 'replayed', 'discarded'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ListFilter {
  status?: DeadLetterStatus;
  consumer?: string;
  limit: number;
}

/** What the commands need of a dead letter (rows and API answers both have it). */
interface DeadLetterView {
  id: string;
  status: string;
  consumer: string;
  event_type: string;
  attempts: number;
  last_attempt_at: string | Date;
  error: string;
  event_id: string;
}

/** The four operations, on the database or through the service's admin API. */
interface DeadLetterDesk {
  list(filter: ListFilter): Promise<DeadLetterView[]>;
  show(id: string): Promise<DeadLetterView>;
  replay(id: string): Promise<DeadLetterView>;
  discard(id: string): Promise<DeadLetterView>;
}

function databaseDesk(config: Config, handle: DatabaseHandle, actor: Actor): DeadLetterDesk {
  const deps = { db: handle.db };
  return {
    list: (filter) => listDeadLetters(deps, actor, filter),
    show: (id) => getDeadLetter(deps, actor, id),
    async replay(id) {
      const bus = await createBus(config.eventBus, { config, db: handle.db, topology: consumerTopology });
      try {
        return await replayDeadLetter({ ...deps, bus }, actor, id);
      } finally {
        await bus.close();
      }
    },
    discard: (id) => discardDeadLetter(deps, actor, id),
  };
}

function serviceDesk(service: RunningService, actor: Actor): DeadLetterDesk {
  const base = '/v1/admin/dead-letters';
  return {
    async list(filter) {
      const query = new URLSearchParams({ limit: String(filter.limit) });
      if (filter.status) query.set('status', filter.status);
      if (filter.consumer) query.set('consumer', filter.consumer);
      return (await service.request<{ items: DeadLetterView[] }>('GET', `${base}?${query}`, actor)).items;
    },
    show: (id) => service.request('GET', `${base}/${id}`, actor),
    replay: (id) => service.request('POST', `${base}/${id}/replay`, actor),
    discard: (id) => service.request('POST', `${base}/${id}/discard`, actor),
  };
}

type Parsed = { action: 'list'; filter: ListFilter } | { action: 'show' | 'replay' | 'discard'; id: string };

/** Reads the arguments, refusing anything the command would not understand. */
export function parseDeadLetterArgs(args: string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { status: { type: 'string' }, consumer: { type: 'string' }, limit: { type: 'string', default: '50' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new Error(`dead-letters: ${(error as Error).message.split('.')[0]}; usage: ${deadLettersUsage}`);
  }
  const [action, id, ...rest] = parsed.positionals;
  const { status, consumer, limit } = parsed.values;
  if (action === 'list' && id === undefined) {
    if (status !== undefined && !STATUSES.includes(status as DeadLetterStatus)) {
      throw new Error(`dead-letters: --status must be one of ${STATUSES.join(', ')} (got "${status}")`);
    }
    const count = Number(limit);
    if (!/^\d{1,3}$/.test(limit ?? '') || count < 1 || count > 200) {
      throw new Error(`dead-letters: --limit must be a whole number from 1 to 200 (got "${limit}")`);
    }
    return { action, filter: { limit: count, ...(status ? { status: status as DeadLetterStatus } : {}), ...(consumer ? { consumer } : {}) } };
  }
  if ((action === 'show' || action === 'replay' || action === 'discard') && id !== undefined && rest.length === 0) {
    if (!UUID.test(id)) throw new Error(`dead-letters: "${id}" is not a dead letter id: ids are UUIDs, as \`dead-letters list\` prints them`);
    return { action, id: id.toLowerCase() };
  }
  throw new Error(`usage: ${deadLettersUsage}`);
}

export async function deadLettersCommand(config: Config, args: string[], out: (line: string) => void): Promise<void> {
  const command = parseDeadLetterArgs(args);
  const actor: Actor = { userId: `cli:${userInfo().username}`, roles: ['admin'] };
  const access = await dataAccess(config, `npm run cli -- dead-letters ${command.action}`);
  const desk = access.kind === 'local' ? databaseDesk(config, access.handle, actor) : serviceDesk(access.service, actor);
  try {
    if (command.action === 'list') {
      const rows = await desk.list(command.filter);
      if (rows.length === 0) out('no dead letters');
      for (const r of rows) {
        out(`${r.id}  ${r.status.padEnd(9)}  ${r.consumer}  ${r.event_type}  attempts=${r.attempts}  ${new Date(r.last_attempt_at).toISOString()}  ${r.error.split('\n')[0]}`);
      }
    } else if (command.action === 'show') {
      out(JSON.stringify(await desk.show(command.id), null, 2));
    } else if (command.action === 'replay') {
      const row = await desk.replay(command.id);
      out(`replayed ${row.id} (event ${row.event_id})`);
    } else {
      out(`discarded ${(await desk.discard(command.id)).id}`);
    }
  } finally {
    if (access.kind === 'local') await access.handle.close();
  }
}
