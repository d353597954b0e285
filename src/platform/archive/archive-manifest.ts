/**
 * What an archive of one monthly partition is (glossary of platform/archive/):
 *
 * - **archive**: the partition's rows as NDJSON (one `to_jsonb(row)` text per line, in
 *   primary-key order), gzip-compressed, under `archives/<table>/<partition>.ndjson.gz`;
 * - **manifest**: `archives/<table>/<partition>.manifest.json`, written after the archive
 *   was read back and verified: the table, the partition, its month, the row count, the
 *   SHA-256 of the compressed object and of the uncompressed NDJSON, the columns;
 * - **verified**: the object read back from storage has the manifest's byte count, both
 *   checksums and exactly `row_count` lines.
 *
 * Pure: names and shapes, no I/O.
 */

export const MANIFEST_FORMAT = 'nedlia.partition-archive';
export const MANIFEST_VERSION = 1;

export interface ArchiveColumn {
  name: string;
  /** As PostgreSQL prints it (`format_type`): `timestamp with time zone`, `numeric(19,7)`. */
  type: string;
  notNull: boolean;
}

export interface ArchiveManifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  table: string;
  partition: string;
  /** The month the partition held: `from` inclusive, `to` exclusive (ISO 8601, UTC). */
  range: { from: string; to: string };
  rowCount: number;
  columns: ArchiveColumn[];
  primaryKey: string[];
  objectKey: string;
  compressed: { bytes: number; sha256: string };
  ndjson: { bytes: number; sha256: string };
  createdAt: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A table or partition name the archiver may put into SQL (lower-case letters, digits, `_`). */
export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

export function assertIdentifier(name: string, what: string): void {
  if (!isIdentifier(name)) {
    throw new ArchiveError(`${what} "${name}" is not a table name (lower-case letters, digits and _, at most 63, not starting with a digit)`);
  }
}

export function archiveKeys(table: string, partition: string): { objectKey: string; manifestKey: string } {
  const base = `archives/${table}/${partition}`;
  return { objectKey: `${base}.ndjson.gz`, manifestKey: `${base}.manifest.json` };
}

/** `{table, partition}` of a manifest key `archives/<table>/<partition>.manifest.json`, or undefined. */
export function parseManifestKey(key: string): { table: string; partition: string } | undefined {
  const match = /^archives\/([a-z_][a-z0-9_]*)\/([a-z_][a-z0-9_]*)\.manifest\.json$/.exec(key);
  return match ? { table: match[1] as string, partition: match[2] as string } : undefined;
}

/** An archive that cannot be made, verified or read back; the message says which and why. */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

const isSha256 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The manifest in `text`, checked field by field; an `ArchiveError` names what is wrong. */
export function parseManifest(text: string, key: string): ArchiveManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ArchiveError(`manifest ${key} is not JSON: ${(error as Error).message}`);
  }
  const m = value as Partial<ArchiveManifest> | null;
  const wrong = (field: string) => new ArchiveError(`manifest ${key}: ${field} is missing or invalid`);
  if (!m || typeof m !== 'object') throw wrong('the document');
  if (m.format !== MANIFEST_FORMAT) throw wrong('format');
  if (m.version !== MANIFEST_VERSION) throw wrong(`version (this build reads ${MANIFEST_VERSION})`);
  if (typeof m.table !== 'string' || !isIdentifier(m.table)) throw wrong('table');
  if (typeof m.partition !== 'string' || !isIdentifier(m.partition)) throw wrong('partition');
  if (!m.range || typeof m.range.from !== 'string' || typeof m.range.to !== 'string') throw wrong('range');
  if (!isCount(m.rowCount)) throw wrong('rowCount');
  if (!Array.isArray(m.columns) || m.columns.length === 0) throw wrong('columns');
  for (const c of m.columns) {
    if (!c || typeof c.name !== 'string' || !isIdentifier(c.name) || typeof c.type !== 'string' || !/^[a-z0-9_ (),.[\]"]+$/.test(c.type)) throw wrong('columns');
  }
  if (!Array.isArray(m.primaryKey)) throw wrong('primaryKey');
  if (typeof m.objectKey !== 'string' || m.objectKey !== archiveKeys(m.table, m.partition).objectKey) throw wrong('objectKey');
  if (!m.compressed || !isCount(m.compressed.bytes) || !isSha256(m.compressed.sha256)) throw wrong('compressed');
  if (!m.ndjson || !isCount(m.ndjson.bytes) || !isSha256(m.ndjson.sha256)) throw wrong('ndjson');
  if (typeof m.createdAt !== 'string') throw wrong('createdAt');
  return m as ArchiveManifest;
}
