/**
 * Opens the configured database, brings its schema up to date when allowed, and
 * makes sure the event log can take inserts for the coming months.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { sql } from 'kysely';
import type { Config } from '../config/config.js';
import { asBackgroundWork, initPgliteDataDir, openPglite, openPostgres, type DatabaseHandle } from './connect.js';
import { isConnectionFault } from './connection-faults.js';
import { iamAuthTarget, iamTokenProvider } from './iam-auth.js';
import { acquireDataDirLock, type DataDirLock, type DataDirOwner } from './data-dir-lock.js';
import { migrations } from './migrations/index.js';
import { MIGRATION_TABLE, migrateUp, migrationStatus } from './migrator.js';
import { ensureEventLogPartitions } from './partitions.js';
import { purgeExpiredKeys } from '../http/idempotency-key-repository.js';
import { purgeExpiredInbox } from '../events/inbox-repository.js';
import { purgeResolvedDeadLetters } from '../events/dead-letter-repository.js';

export interface ConnectOptions {
  poolSize?: number;
  logger?: Logger;
  /** Embedded: the lock of `DATA_DIR` when the caller took it already (see `claimDataDir` in data-dir-lock.ts). */
  lock?: DataDirLock;
  /** Embedded: who this process is, for the lock it takes when given none. */
  owner?: DataDirOwner;
  /** Called as each step of opening ends (`database open`, `migrations`, `partitions`), for start-up timings. */
  mark?: (step: string) => void;
}

/** Connects to the configured database without touching its schema. */
export async function connectDatabase(config: Config, options: ConnectOptions = {}): Promise<DatabaseHandle> {
  if (config.databaseUrl) {
    return openPostgres({
      connectionString: config.databaseUrl,
      max: options.poolSize ?? config.databasePoolSize,
      timeouts: config.databaseTimeouts,
      onIdleError: (error) => options.logger?.warn({ err: error }, 'a database connection failed; it will be replaced'),
      ...(config.databaseIamAuth ? { password: iamTokenProvider(iamAuthTarget(config.databaseUrl)) } : {}),
    });
  }
  const lock = options.lock ?? (await acquireDataDirLock(config.dataDir, options.owner ?? { command: `node ${process.argv.slice(1).join(' ')}` }));
  try {
    const dir = path.join(config.dataDir, 'pgdata');
    // A fresh directory: initdb in a child process (see initPgliteDataDir), then opened like any other.
    if (await initPgliteDataDir(dir)) options.mark?.('initdb');
    await mkdir(dir, { recursive: true });
    const handle = await openPglite({ dataDir: dir });
    return {
      ...handle,
      dataDirLock: lock,
      async close() {
        try {
          await handle.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Connects, then migrates (when allowed) or checks that nothing is pending. */
export async function openDatabase(config: Config, logger: Logger, options: Omit<ConnectOptions, 'logger'> = {}): Promise<DatabaseHandle> {
  const handle = await connectDatabase(config, { ...options, logger });
  const mark = options.mark ?? (() => undefined);
  try {
    if (config.databaseUrl) await assertReachable(handle, config.databaseUrl);
    mark('database open');
    // Migrations and partition work may take longer than a request's query budget.
    await asBackgroundWork(() => prepareSchema(handle, config, logger, mark));
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/** SQLSTATEs of a server that refuses this client: bad password, no such role or database. */
const REFUSED = new Set(['28P01', '28000', '3D000']);

/** `host:port` of a postgres URL, without the user or password. */
function serverOf(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname || 'localhost'}:${url.port || '5432'}`;
}

/**
 * One round trip before the schema is touched, so that a server that cannot be reached
 * is reported as that, naming DATABASE_URL's server, rather than as a failed migration.
 */
async function assertReachable(handle: DatabaseHandle, databaseUrl: string): Promise<void> {
  try {
    await sql`select 1`.execute(handle.db);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (isConnectionFault(error) || (typeof code === 'string' && REFUSED.has(code))) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new Error(`cannot reach the database of DATABASE_URL at ${serverOf(databaseUrl)}: ${reason}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Whether exactly the migrations of `migrations` are applied (two small queries): then
 * there is nothing to run nor to report, and the Migrator's own bookkeeping (its tables
 * made sure of, its lock taken, the list compared) is not needed. Anything else, a
 * migration pending or one this code does not know, goes to the Migrator, which applies
 * or refuses as it always did.
 */
async function allMigrationsApplied(handle: DatabaseHandle): Promise<boolean> {
  const found = await sql<{ regclass: string | null }>`select to_regclass(${MIGRATION_TABLE})::text as regclass`.execute(handle.db);
  if (!found.rows[0]?.regclass) return false;
  const applied = new Set((await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(handle.db)).rows.map((r) => r.name));
  const known = Object.keys(migrations);
  return applied.size === known.length && known.every((name) => applied.has(name));
}

async function prepareSchema(handle: DatabaseHandle, config: Config, logger: Logger, mark: (step: string) => void): Promise<void> {
  if (await allMigrationsApplied(handle)) {
    // Up to date: nothing to apply, nothing pending (the usual restart).
  } else if (config.migrateOnStart) {
    const applied = await migrateUp(handle.db, migrations);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  } else {
    const pending = (await migrationStatus(handle.db, migrations)).filter((m) => !m.executedAt);
    if (pending.length > 0) {
      throw new Error(
        `the database is missing migrations ${pending.map((m) => m.name).join(', ')}: run \`npm run migrate -- up\``,
      );
    }
  }
  mark('migrations');
  await ensureEventLogPartitions(handle.db);
  mark('partitions');
}

/** The settings maintenance tasks read (a `Config` will do). */
export type MaintenanceSettings = Pick<Config, 'inboxRetentionDays' | 'deadLetterRetentionDays'>;

/** Housekeeping that every process may run (each task is idempotent). */
const MAINTENANCE: Record<string, (handle: DatabaseHandle, settings: MaintenanceSettings) => Promise<unknown>> = {
  'event_log partitions': (handle) => ensureEventLogPartitions(handle.db),
  'expired idempotency keys': (handle) => purgeExpiredKeys(handle.db),
  'expired inbox rows': (handle, settings) => purgeExpiredInbox(handle.db, { retentionDays: settings.inboxRetentionDays }),
  'resolved dead letters': (handle, settings) =>
    purgeResolvedDeadLetters(handle.db, { retentionDays: settings.deadLetterRetentionDays, inboxRetentionDays: settings.inboxRetentionDays }),
};

/** Runs every maintenance task once; a failing task is logged and does not stop the others. */
export async function runMaintenance(handle: DatabaseHandle, logger: Logger, settings: MaintenanceSettings): Promise<void> {
  await Promise.all(
    Object.entries(MAINTENANCE).map(([name, task]) =>
      task(handle, settings).catch((error: unknown) => logger.error({ err: error, task: name }, 'maintenance task failed')),
    ),
  );
}

/** Runs the maintenance tasks every `everyMs` (hourly); returns a function that stops it. */
export function scheduleMaintenance(handle: DatabaseHandle, logger: Logger, settings: MaintenanceSettings, everyMs = 60 * 60 * 1000): () => void {
  const timer = setInterval(() => void asBackgroundWork(() => runMaintenance(handle, logger, settings)), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
