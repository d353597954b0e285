/**
 * Monthly partitions of `event_log` (and of any table partitioned by month the same
 * way: ingestion's raw events and charges). The first migration creates the current
 * and next months; the service's maintenance step (`ensureEventLogPartitions`) keeps
 * a few months ahead so an insert never meets a missing partition.
 */
import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema
type AnyKysely = Kysely<any>;

const pad = (n: number): string => String(n).padStart(2, '0');

function monthStart(year: number, month: number): Date {
  return new Date(Date.UTC(year, month, 1));
}

/** `event_log_2026_11` for November 2026 (`<table>_2026_11` for another table). */
export function partitionName(month: Date, table = 'event_log'): string {
  return `${table}_${month.getUTCFullYear()}_${pad(month.getUTCMonth() + 1)}`;
}

/** DDL that creates the partitions of `months` consecutive months from `from`'s month, if missing. */
export function monthPartitionsDdl(from: Date, months: number, table = 'event_log'): string {
  const statements: string[] = [];
  for (let i = 0; i < months; i++) {
    const start = monthStart(from.getUTCFullYear(), from.getUTCMonth() + i);
    const end = monthStart(start.getUTCFullYear(), start.getUTCMonth() + 1);
    const iso = (d: Date): string => d.toISOString().slice(0, 10);
    statements.push(
      `CREATE TABLE IF NOT EXISTS ${partitionName(start, table)} PARTITION OF ${table} ` +
        `FOR VALUES FROM ('${iso(start)}') TO ('${iso(end)}');`,
    );
  }
  return statements.join('\n');
}

/** The first day (UTC) after the month a `<table>_YYYY_MM` partition holds, or undefined for another name. */
export function partitionEnd(name: string): Date | undefined {
  const match = /_(\d{4})_(\d{2})$/.exec(name);
  return match ? monthStart(Number(match[1]), Number(match[2])) : undefined;
}

/** Key of the transaction-scoped advisory lock that serializes partition creation. */
const PARTITIONS_LOCK = 7_246_110_001;

/**
 * Creates any missing partition from this month to `monthsAhead` months later.
 * Processes starting together (an api and a worker) run this at once; `CREATE TABLE
 * IF NOT EXISTS` alone races on PostgreSQL (both see no table, one fails on a
 * duplicate catalog row), so the creations take turns under an advisory lock.
 */
export async function ensureEventLogPartitions(
  db: AnyKysely,
  now: Date = new Date(),
  monthsAhead = 3,
): Promise<void> {
  await ensureMonthlyPartitions(db, ['event_log'], now, monthsAhead);
}

/** `ensureEventLogPartitions` for any tables partitioned by month, in one transaction. */
export async function ensureMonthlyPartitions(db: AnyKysely, tables: readonly string[], now: Date = new Date(), monthsAhead = 3): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await lockPartitions(tx);
    await sql.raw(tables.map((table) => monthPartitionsDdl(now, monthsAhead + 1, table)).join('\n')).execute(tx);
  });
}

/**
 * Takes the lock every change of partitions holds (creation, drop, the archiver's detach),
 * for the rest of transaction `tx`.
 */
export async function lockPartitions(tx: AnyKysely): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${PARTITIONS_LOCK})`.execute(tx);
}

/** Drops one partition, under the same lock as the creations. */
export async function dropPartition(db: AnyKysely, name: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await lockPartitions(tx);
    await sql.raw(`DROP TABLE IF EXISTS ${name}`).execute(tx);
  });
}

/** Names of the existing (attached) partitions of `table`, oldest first. */
export async function listPartitionsOf(db: AnyKysely, table: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = ${table} AND p.relnamespace = current_schema()::regnamespace
    ORDER BY c.relname`.execute(db);
  return rows.map((r) => r.name);
}

/** Names of the existing partitions of `event_log`, oldest first. */
export function listEventLogPartitions(db: AnyKysely): Promise<string[]> {
  return listPartitionsOf(db, 'event_log');
}
