/**
 * Archival of monthly partitions past their table's retention (archive-manifest.ts has the
 * glossary). For each partition `<table>_YYYY_MM` whose month ended more than
 * `retentionDays` ago:
 *
 * 1. **detach**: one transaction, under the partitions' lock: the table's hold (if any) is
 *    asked, `ALTER TABLE <table> DETACH PARTITION <partition>` runs and an
 *    `archived_partitions` row (`detached`) is written. Nobody writes the detached table.
 * 2. **export**: its rows stream in primary-key batches through gzip into storage;
 * 3. **verify**: the object is read back (bytes, both SHA-256s, line count) and the count
 *    is compared with the table's; then the manifest is written and read back;
 * 4. **drop**: one transaction: `DROP TABLE` and the row becomes `archived`.
 *
 * Nothing is dropped whose export did not verify. A crash leaves the partition attached
 * (before 1 commits), or detached with its `detached` row (until 4 commits), or dropped
 * with a verified archive: every run first finishes the detached ones. Export and verify
 * are repeatable (the same rows give the same bytes), so finishing again is harmless.
 * On PostgreSQL one process archives at a time (a session advisory lock on a connection
 * of its own, gone with the process); the embedded database has one process.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Engine } from '../db/connect.js';
import { listPartitionsOf, lockPartitions, partitionEnd } from '../db/partitions.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { ArchiveError, MANIFEST_FORMAT, MANIFEST_VERSION, archiveKeys, assertIdentifier, parseManifest, type ArchiveManifest } from './archive-manifest.js';
import { tableShape, verifyArchive, writeArchive, type WrittenArchive } from './archive-file.js';

const DAY_MS = 86_400_000;
/** Session advisory lock held by the one process archiving (PostgreSQL). */
const ARCHIVER_LOCK = 7_246_110_002;
/**
 * Bound on waiting for the table lock DETACH and DROP need. A plain DETACH takes an ACCESS
 * EXCLUSIVE lock on the parent for an instant, and while it waits every new query of that
 * table waits behind it: so it waits at most this long, fails, and the next run tries again.
 * (DETACH … CONCURRENTLY would need no such lock but cannot run in the transaction that
 * records the detach.)
 */
const DDL_LOCK_TIMEOUT = '1s';

/** What the archiver does with one partitioned table. */
export interface ArchivePolicy {
  /** The partitioned table (monthly partitions `<table>_YYYY_MM`). */
  table: string;
  /** Days after a partition's month ends before it is archived and dropped. */
  retentionDays: number;
  /**
   * Asked in the detach transaction: a reason to keep `partition` attached for now (e.g.
   * event_log rows the relay has not published), or undefined to go ahead.
   */
  hold?: (tx: Kysely<Database>, partition: string) => Promise<string | undefined>;
}

export interface ArchiverDeps {
  db: Kysely<Database>;
  engine: Engine;
  storage: ObjectStorage;
}

export interface ArchivedPartition {
  table: string;
  partition: string;
  rowCount: number;
  objectKey: string;
  manifestKey: string;
  /** True when this run finished a partition an earlier run had detached. */
  resumed: boolean;
}

export interface PlannedPartition {
  table: string;
  partition: string;
  range: { from: Date; to: Date };
  /** `detached`: an earlier run detached it, this one exports and drops it. */
  state: 'attached' | 'detached';
}

export interface ArchiveRunResult {
  /** Another process holds the archiver's lock: nothing was done. */
  busy: boolean;
  /** Dry run: what would be archived. Otherwise what was found to do. */
  planned: PlannedPartition[];
  archived: ArchivedPartition[];
  held: { table: string; partition: string; reason: string }[];
  failed: { table: string; partition: string; error: string }[];
}

export interface ArchiveRunOptions {
  now?: Date;
  dryRun?: boolean;
  signal?: AbortSignal;
  batchRows?: number;
}

function monthBefore(end: Date): Date {
  return new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1));
}

/** The partitions of `policies` past retention, and those an earlier run left detached. */
export async function plannedPartitions(db: Kysely<Database>, policies: readonly ArchivePolicy[], now = new Date()): Promise<PlannedPartition[]> {
  const detached = await db.selectFrom('archived_partitions').select(['parent_table', 'partition_name', 'range_from', 'range_to'])
    .where('status', '=', 'detached').orderBy('range_from').orderBy('partition_name').execute();
  const planned: PlannedPartition[] = detached.map((r) => ({
    table: r.parent_table, partition: r.partition_name, range: { from: new Date(r.range_from), to: new Date(r.range_to) }, state: 'detached',
  }));
  for (const policy of policies) {
    assertIdentifier(policy.table, 'table');
    const cutoff = now.getTime() - policy.retentionDays * DAY_MS;
    for (const name of await listPartitionsOf(db, policy.table)) {
      const end = partitionEnd(name);
      if (!end || !/^\d{4}_\d{2}$/.test(name.slice(policy.table.length + 1)) || end.getTime() > cutoff) continue;
      planned.push({ table: policy.table, partition: name, range: { from: monthBefore(end), to: end }, state: 'attached' });
    }
  }
  return planned;
}

/**
 * Step 1: detaches `partition` from `policy.table` and records it, in one transaction.
 * Answers the hold's reason instead when the table's hold keeps it.
 */
export async function detachPartition(db: Kysely<Database>, policy: ArchivePolicy, partition: string): Promise<{ held?: string }> {
  assertIdentifier(partition, 'partition');
  const end = partitionEnd(partition);
  if (!end) throw new ArchiveError(`${partition} is not a monthly partition name (<table>_YYYY_MM)`);
  const { objectKey, manifestKey } = archiveKeys(policy.table, partition);
  return db.transaction().execute(async (tx) => {
    await lockPartitions(tx);
    await sql.raw(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`).execute(tx);
    const reason = policy.hold ? await policy.hold(tx, partition) : undefined;
    if (reason) return { held: reason };
    await sql.raw(`ALTER TABLE "${policy.table}" DETACH PARTITION "${partition}"`).execute(tx);
    await tx.insertInto('archived_partitions').values({
      partition_name: partition, parent_table: policy.table, range_from: monthBefore(end), range_to: end, object_key: objectKey, manifest_key: manifestKey,
    }).execute();
    return {};
  });
}

async function tableExists(db: Kysely<Database>, name: string): Promise<boolean> {
  const { rows: [row] } = await sql<{ oid: string | null }>`SELECT to_regclass(${name})::text AS oid`.execute(db);
  return Boolean(row?.oid);
}

async function readManifest(storage: ObjectStorage, key: string): Promise<ArchiveManifest | undefined> {
  const object = await storage.get(key);
  if (!object) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of object.body as AsyncIterable<Buffer>) chunks.push(chunk);
  return parseManifest(Buffer.concat(chunks).toString('utf8'), key);
}

const written = (m: ArchiveManifest): WrittenArchive => ({ rowCount: m.rowCount, compressed: m.compressed, ndjson: m.ndjson });

/**
 * Steps 2–4 for a partition recorded as `detached`: export, verify, manifest, drop. When
 * the detached table is gone already (dropped by hand), the archive must verify against its
 * manifest for the row to become `archived`; otherwise this throws and changes nothing.
 */
export async function finishDetached(deps: ArchiverDeps, partition: string, options: Pick<ArchiveRunOptions, 'batchRows' | 'signal'> = {}): Promise<ArchivedPartition> {
  const { db, storage } = deps;
  const row = await db.selectFrom('archived_partitions').selectAll().where('partition_name', '=', partition).executeTakeFirst();
  if (!row) throw new ArchiveError(`${partition} was not detached by the archiver`);
  const result = (rowCount: number): ArchivedPartition => ({
    table: row.parent_table, partition, rowCount, objectKey: row.object_key, manifestKey: row.manifest_key, resumed: false,
  });
  if (row.status === 'archived') return result(Number(row.row_count));
  if (!(await tableExists(db, partition))) {
    const manifest = await readManifest(storage, row.manifest_key);
    if (!manifest) throw new ArchiveError(`${partition} is recorded as detached but the table is gone and ${row.manifest_key} is not in storage: its rows cannot be found`);
    await verifyArchive(storage, row.object_key, written(manifest), options.signal);
    await markArchived(db, partition, manifest);
    return result(manifest.rowCount);
  }
  try {
    const shape = await tableShape(db, partition);
    const sent = await writeArchive(db, storage, partition, row.object_key, { primaryKey: shape.primaryKey, batchRows: options.batchRows, signal: options.signal });
    const { rows: [counted] } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.raw(`"${partition}"`)}`.execute(db);
    if (Number(counted?.n) !== sent.rowCount) {
      throw new ArchiveError(`${partition} has ${String(counted?.n)} rows, the export wrote ${sent.rowCount}`);
    }
    await verifyArchive(storage, row.object_key, sent, options.signal);
    const manifest: ArchiveManifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      table: row.parent_table,
      partition,
      range: { from: new Date(row.range_from).toISOString(), to: new Date(row.range_to).toISOString() },
      rowCount: sent.rowCount,
      columns: shape.columns,
      primaryKey: shape.primaryKey.map((c) => c.name),
      objectKey: row.object_key,
      compressed: sent.compressed,
      ndjson: sent.ndjson,
      createdAt: new Date().toISOString(),
    };
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    await storage.put(row.manifest_key, text, { contentType: 'application/json' });
    const back = await readManifest(storage, row.manifest_key);
    if (!back || JSON.stringify(back) !== JSON.stringify(manifest)) {
      throw new ArchiveError(`manifest ${row.manifest_key} read back differs from what was written`);
    }
    await dropDetached(db, partition, manifest);
    return result(sent.rowCount);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await db.updateTable('archived_partitions').set({ last_error: message.slice(0, 2000) })
      .where('partition_name', '=', partition).where('status', '=', 'detached').execute().catch(() => undefined);
    throw error;
  }
}

async function markArchived(db: Kysely<Database>, partition: string, manifest: ArchiveManifest): Promise<void> {
  await db.updateTable('archived_partitions').set({
    status: 'archived', archived_at: new Date(), row_count: manifest.rowCount, compressed_bytes: manifest.compressed.bytes,
    compressed_sha256: manifest.compressed.sha256, rows_sha256: manifest.ndjson.sha256, last_error: null,
  }).where('partition_name', '=', partition).execute();
}

/** Step 4: the verified partition's table goes, and its row says where the archive is. */
async function dropDetached(db: Kysely<Database>, partition: string, manifest: ArchiveManifest): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await lockPartitions(tx);
    await sql.raw(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`).execute(tx);
    await sql.raw(`DROP TABLE IF EXISTS "${partition}"`).execute(tx);
    await markArchived(tx, partition, manifest);
  });
}

/** Holds the archiver's lock for `work` (PostgreSQL: one process at a time); undefined when another holds it. */
async function exclusively<T>(deps: ArchiverDeps, work: () => Promise<T>): Promise<T | undefined> {
  if (deps.engine !== 'postgres') return work();
  return deps.db.connection().execute(async (conn) => {
    const { rows: [got] } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(${ARCHIVER_LOCK}) AS ok`.execute(conn);
    if (!got?.ok) return undefined;
    try {
      return await work();
    } finally {
      await sql`SELECT pg_advisory_unlock(${ARCHIVER_LOCK})`.execute(conn);
    }
  });
}

/**
 * One archiver run: finishes the partitions earlier runs left detached, then archives
 * every partition past its table's retention, one at a time. A partition that fails is
 * reported in `failed` (and left attached or detached, never dropped); the others go on.
 */
export async function archivePartitions(deps: ArchiverDeps, policies: readonly ArchivePolicy[], options: ArchiveRunOptions = {}): Promise<ArchiveRunResult> {
  const outcome: ArchiveRunResult = { busy: false, planned: [], archived: [], held: [], failed: [] };
  const run = async () => {
    outcome.planned = await plannedPartitions(deps.db, policies, options.now);
    if (options.dryRun) return;
    for (const planned of outcome.planned) {
      if (options.signal?.aborted) break;
      const { table, partition } = planned;
      try {
        if (planned.state === 'attached') {
          const policy = policies.find((p) => p.table === table) as ArchivePolicy;
          const { held } = await detachPartition(deps.db, policy, partition);
          if (held) {
            outcome.held.push({ table, partition, reason: held });
            continue;
          }
        }
        const done = await finishDetached(deps, partition, options);
        outcome.archived.push({ ...done, resumed: planned.state === 'detached' });
      } catch (error) {
        outcome.failed.push({ table, partition, error: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  const ran = await exclusively(deps, async () => {
    await run();
    return true;
  });
  if (!ran) outcome.busy = true;
  return outcome;
}
