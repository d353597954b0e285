/**
 * Loading one archive back for audit. The archive is verified against its manifest first
 * (bytes, both SHA-256s, row count), then its rows go into a new table, by default
 * `<partition>_restored`, made from the manifest's columns (names, types, NOT NULL; no
 * indexes or constraints): a plain table beside the live ones, never attached to the
 * partitioned table, so the restored month is neither archived again nor seen by the
 * service's queries. The load is one transaction that checks the NDJSON's checksum and
 * the row count again at its end: a failure leaves no table behind. Drop the table when
 * the audit is done.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { ArchiveError, archiveKeys, assertIdentifier, parseManifest, parseManifestKey, type ArchiveManifest } from './archive-manifest.js';
import { archiveLineBatches, verifyArchive } from './archive-file.js';

const INSERT_BATCH_ROWS = 1_000;

export interface RestoreRequest {
  /** `archives/<table>/<partition>.manifest.json`, or give `table` and `partition`. */
  manifestKey?: string;
  table?: string;
  partition?: string;
  /** The table to create; `<partition>_restored` by default. */
  into?: string;
}

export interface RestoredArchive {
  table: string;
  manifest: ArchiveManifest;
  rowCount: number;
}

/** The manifest under `key`, parsed and checked. */
export async function loadManifest(storage: ObjectStorage, key: string): Promise<ArchiveManifest> {
  const object = await storage.get(key);
  if (!object) throw new ArchiveError(`no archive manifest ${key} in storage`);
  const chunks: Buffer[] = [];
  for await (const chunk of object.body as AsyncIterable<Buffer>) chunks.push(chunk);
  return parseManifest(Buffer.concat(chunks).toString('utf8'), key);
}

function manifestKeyOf(request: RestoreRequest): string {
  if (request.manifestKey) {
    if (!parseManifestKey(request.manifestKey)) throw new ArchiveError(`${request.manifestKey} is not a manifest key (archives/<table>/<partition>.manifest.json)`);
    return request.manifestKey;
  }
  if (!request.table || !request.partition) throw new ArchiveError('name the archive: a table and a partition, or a manifest key');
  assertIdentifier(request.table, 'table');
  assertIdentifier(request.partition, 'partition');
  return archiveKeys(request.table, request.partition).manifestKey;
}

export async function restoreArchive(deps: { db: Kysely<Database>; storage: ObjectStorage }, request: RestoreRequest): Promise<RestoredArchive> {
  const { db, storage } = deps;
  const manifestKey = manifestKeyOf(request);
  const manifest = await loadManifest(storage, manifestKey);
  const target = request.into ?? `${manifest.partition}_restored`;
  assertIdentifier(target, 'target table');
  const { rows: [exists] } = await sql<{ oid: string | null }>`SELECT to_regclass(${target})::text AS oid`.execute(db);
  if (exists?.oid) throw new ArchiveError(`table ${target} exists already: drop it, or restore into another (--into NAME)`);
  // First pass: the object as stored must be the one the manifest describes.
  await verifyArchive(storage, manifest.objectKey, { rowCount: manifest.rowCount, compressed: manifest.compressed, ndjson: manifest.ndjson });

  const columns = manifest.columns.map((c) => `"${c.name}" ${c.type}${c.notNull ? ' NOT NULL' : ''}`).join(', ');
  const rowCount = await db.transaction().execute(async (tx) => {
    await sql.raw(`CREATE TABLE "${target}" (${columns})`).execute(tx);
    const hash = createHash('sha256');
    let loaded = 0;
    for await (const lines of archiveLineBatches(storage, manifest.objectKey, INSERT_BATCH_ROWS, hash)) {
      await sql`INSERT INTO ${sql.raw(`"${target}"`)} SELECT * FROM json_populate_recordset(NULL::${sql.raw(`"${target}"`)}, ${`[${lines.join(',')}]`}::json)`.execute(tx);
      loaded += lines.length;
    }
    // Second pass, in the transaction: what was loaded is what was verified.
    const sha = hash.digest('hex');
    if (sha !== manifest.ndjson.sha256) throw new ArchiveError(`archive ${manifest.objectKey} changed while it was loaded (SHA-256 ${sha}): nothing restored`);
    const { rows: [counted] } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.raw(`"${target}"`)}`.execute(tx);
    if (loaded !== manifest.rowCount || Number(counted?.n) !== manifest.rowCount) {
      throw new ArchiveError(`${target} received ${String(counted?.n)} rows, the manifest says ${manifest.rowCount}: nothing restored`);
    }
    return loaded;
  });
  return { table: target, manifest, rowCount };
}
