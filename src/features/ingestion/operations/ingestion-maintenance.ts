/**
 * Housekeeping of ingestion's tables, run at start and hourly by every API process (the
 * routes) and every worker process (the `ingestion-maintenance` background worker, so a
 * deployment of workers only keeps its partitions too); each step is idempotent and bounded:
 * - monthly partitions of `playback_events` and `playback_charges` from this month to 3
 *   months ahead (an insert never meets a missing partition), as platform/db/partitions.ts does for event_log;
 * - partitions wholly older than `INGEST_RAW_RETENTION_DAYS` are not dropped here: the
 *   platform's archiver (platform/archive/, on the policies of `ingestionArchivePolicies`)
 *   exports them to object storage, verifies the export, and only then drops them;
 * - ids older than the dedup window (`INGEST_WINDOW_DAYS` + 2 days) leave
 *   `ingest_event_ids`, in chunks of 10,000;
 * - frequency counts of sessions unseen for 2 days leave `session_frequency`.
 */
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../../platform/db/schema.js';
import { dedupRetentionDays } from '../events/event-rules.js';
import { ensureMonthlyPartitions } from '../../../platform/db/partitions.js';
import type { ArchivePolicy } from '../../../platform/archive/partition-archiver.js';
import { asBackgroundWork } from '../../../platform/db/connect.js';

const TABLES = ['playback_events', 'playback_charges'] as const;
const DAY_MS = 86_400_000;
const CHUNK = 10_000;
/** Bound on one purge run, so an hourly run never holds on for long. */
const MAX_CHUNKS = 100;


export interface MaintenanceSettings {
  windowDays: number;
  rawRetentionDays: number;
}

export async function ensurePartitions(db: Kysely<Database>, now = new Date(), monthsAhead = 3): Promise<void> {
  await ensureMonthlyPartitions(db, TABLES, now, monthsAhead);
}

/** The raw tables' archive policies: a month is archived and dropped `rawRetentionDays` after it ends. */
export function ingestionArchivePolicies(rawRetentionDays: number): ArchivePolicy[] {
  return TABLES.map((table) => ({ table, retentionDays: rawRetentionDays }));
}

/** Deletes dedup ids older than the window, chunk by chunk; returns how many. */
export async function purgeDedupIds(db: Kysely<Database>, windowDays: number, now = new Date()): Promise<number> {
  const before = new Date(now.getTime() - dedupRetentionDays(windowDays) * DAY_MS);
  let total = 0;
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const { rows } = await sql<{ event_id: string }>`
      DELETE FROM ingest_event_ids WHERE event_id IN (
        SELECT event_id FROM ingest_event_ids WHERE seen_at < ${before} ORDER BY seen_at LIMIT ${CHUNK})
      RETURNING event_id`.execute(db);
    total += rows.length;
    if (rows.length < CHUNK) break;
  }
  return total;
}

export async function purgeSessions(db: Kysely<Database>, now = new Date()): Promise<void> {
  await sql`DELETE FROM session_frequency WHERE last_seen_at < ${new Date(now.getTime() - 2 * DAY_MS)}`.execute(db);
}

const HOUR_MS = 3_600_000;

/**
 * Maintenance at start and then hourly, one run at a time, beside the process's work:
 * first the partitions (awaited: an insert must find this month's), then the whole run.
 * `stop` ends the schedule and waits for the run in progress.
 */
export async function startIngestionMaintenance(db: Kysely<Database>, settings: MaintenanceSettings, logger: Logger): Promise<{ stop(): Promise<void> }> {
  // The service's own work: the background query budget, not a request's.
  await asBackgroundWork(() => ensurePartitions(db)).catch((error: unknown) =>
    logger.error({ err: error, task: 'partitions' }, 'ingestion maintenance step failed; the next hourly run tries again'));
  const run = () => asBackgroundWork(() => runIngestionMaintenance(db, settings, logger));
  let running = run();
  const timer = setInterval(() => (running = running.then(run)), HOUR_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export async function runIngestionMaintenance(db: Kysely<Database>, settings: MaintenanceSettings, logger: Logger, now = new Date()): Promise<void> {
  const steps: [string, () => Promise<unknown>][] = [
    ['partitions', () => ensurePartitions(db, now)],
    ['expired dedup ids', () => purgeDedupIds(db, settings.windowDays, now)],
    ['idle sessions', () => purgeSessions(db, now)],
  ];
  for (const [name, step] of steps) {
    await step().catch((error: unknown) => logger.error({ err: error, task: name }, 'ingestion maintenance step failed; the next hourly run tries again'));
  }
}
