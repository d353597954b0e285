/**
 * Backups of the embedded database: a consistent copy of the PGlite data directory
 * (`DATA_DIR/pgdata`) as one gzipped tar, taken while the service runs, and its restore
 * into a data directory of its own.
 *
 * Consistency: the dump holds PGlite's one session (no query or transaction runs while
 * it copies, see `dumpDataDir` in db/connect.ts) after a CHECKPOINT, so the copy is the
 * database as it was between two transactions. Writes wait for the dump (a few hundred
 * milliseconds for a small database) and then go on.
 *
 * A backup is written to a temporary file, flushed, then renamed, so a file with the
 * backup's name is always whole; a manifest beside it (`<file>.json`) holds its size,
 * SHA-256 and row counts, which a restore checks. PostgreSQL servers are backed up by
 * the server (pg_dump, or point-in-time recovery on RDS/Aurora: docs/deployment.md).
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openPglite, type DatabaseHandle } from '../db/connect.js';
import type { Database } from '../db/schema.js';

export interface BackupManifest {
  format: 'nedlia-pglite-datadir';
  /** The backup file's name (beside the manifest). */
  file: string;
  bytes: number;
  sha256: string;
  taken_at: string;
  /** Rows per table when the backup was taken (checked after a restore). */
  rows: Record<string, number>;
}

export class BackupError extends Error {}

/** Rows per table of the public schema (partitions counted in their parents, not on their own). */
export async function rowCounts(db: Kysely<Database>): Promise<Record<string, number>> {
  const tables = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY c.relname`.execute(db);
  const counts: Record<string, number> = {};
  for (const { name } of tables.rows) {
    const result = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.table(name)}`.execute(db);
    counts[name] = Number(result.rows[0]?.n ?? 0);
  }
  return counts;
}

async function writeWhole(file: string, data: Uint8Array): Promise<void> {
  const temporary = `${file}.partial-${process.pid}`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Takes a backup of an embedded database into `file` (and `file.json`, its manifest). */
export async function backupDatabase(handle: DatabaseHandle, file: string): Promise<BackupManifest> {
  if (!handle.dumpDataDir) {
    throw new BackupError('this database is a PostgreSQL server: back it up with the server (pg_dump, or point-in-time recovery on RDS/Aurora)');
  }
  // Counted in the dump's own hold of the session: exactly the rows the copy has.
  let rows: Record<string, number> = {};
  const blob = await handle.dumpDataDir(async (db) => {
    rows = await rowCounts(db);
  });
  const dump = new Uint8Array(await blob.arrayBuffer());
  await mkdir(path.dirname(file), { recursive: true });
  await writeWhole(file, dump);
  const manifest: BackupManifest = {
    format: 'nedlia-pglite-datadir',
    file: path.basename(file),
    bytes: dump.byteLength,
    sha256: sha256(dump),
    taken_at: new Date().toISOString(),
    rows,
  };
  await writeWhole(`${file}.json`, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  return manifest;
}

/** Reads a backup and its manifest, checking size and checksum. */
export async function readBackup(file: string): Promise<{ data: Uint8Array; manifest: BackupManifest }> {
  const manifest = JSON.parse(await readFile(`${file}.json`, 'utf8').catch(() => {
    throw new BackupError(`${file}.json (the backup's manifest) is missing`);
  })) as BackupManifest;
  const data = new Uint8Array(await readFile(file));
  if (manifest.format !== 'nedlia-pglite-datadir') throw new BackupError(`${file} is not a backup of an embedded database`);
  if (data.byteLength !== manifest.bytes || sha256(data) !== manifest.sha256) {
    throw new BackupError(`${file} does not match its manifest (size or SHA-256 differs): it is damaged or incomplete`);
  }
  return { data, manifest };
}

export interface RestoreResult {
  manifest: BackupManifest;
  rows: Record<string, number>;
}

/**
 * Restores `file` into `pgdataDir` (a data directory that does not exist yet or is empty),
 * opens it, and checks that every table has the rows the manifest counted.
 */
export async function restoreDatabase(file: string, pgdataDir: string): Promise<RestoreResult> {
  const { data, manifest } = await readBackup(file);
  const existing = await readdir(pgdataDir).catch(() => [] as string[]);
  if (existing.length > 0) throw new BackupError(`${pgdataDir} is not empty: restore into a fresh data directory (or move this one aside first)`);
  await mkdir(pgdataDir, { recursive: true });
  let handle: DatabaseHandle | undefined;
  try {
    handle = await openPglite({ dataDir: pgdataDir, loadDataDir: new Blob([data]) });
    const rows = await rowCounts(handle.db);
    const differ = Object.entries(manifest.rows).filter(([table, n]) => rows[table] !== n);
    if (differ.length > 0) {
      throw new BackupError(`the restored database does not have the rows the backup counted: ${differ.map(([t, n]) => `${t} ${rows[t] ?? 'missing'} ≠ ${n}`).join(', ')}`);
    }
    return { manifest, rows };
  } catch (error) {
    await handle?.close().catch(() => undefined);
    handle = undefined;
    await rm(pgdataDir, { recursive: true, force: true });
    throw error;
  } finally {
    await handle?.close();
  }
}

/** The backups under `dir`, newest first. */
export async function listBackups(dir: string): Promise<{ file: string; bytes: number }[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.tar.gz'));
  const files = await Promise.all(names.map(async (n) => ({ file: path.join(dir, n), bytes: (await stat(path.join(dir, n))).size })));
  return files.sort((a, b) => b.file.localeCompare(a.file));
}

/** `nedlia-20261203T142512Z.tar.gz` */
export const backupName = (at = new Date()): string => `nedlia-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.tar.gz`;
