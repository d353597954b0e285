/**
 * Optimistic locking and soft delete, shared by every versioned catalog table:
 * a write names the version it read; it applies only if the row is still there at
 * that version, and bumps the version.
 */
import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import { DomainError, notFound } from '../../../platform/errors.js';
import type { Database } from '../../../platform/db/schema.js';
import { withCatalogErrors } from '../catalog-constraints.js';

export type VersionedTable = 'advertisers' | 'campaigns' | 'products' | 'videos' | 'placements';
type Executor = Kysely<Database>;

/** The resource name a table's errors speak of (`CAMPAIGN.NOT_FOUND`). */
const RESOURCE: Record<VersionedTable, string> = {
  advertisers: 'advertiser',
  campaigns: 'campaign',
  products: 'product',
  videos: 'video',
  placements: 'placement',
};

/** The live (not deleted) row, or undefined. */
export async function findLive<T extends VersionedTable>(db: Executor, table: T, id: string): Promise<Selectable<Database[T]> | undefined> {
  const row = await sql<Selectable<Database[T]>>`SELECT * FROM ${sql.table(table)} WHERE id = ${id}::uuid AND deleted_at IS NULL`.execute(db);
  return row.rows[0];
}

/** Applies `changes` at `expectedVersion`; NOT_FOUND or VERSION_MISMATCH otherwise. */
export async function updateVersioned<T extends VersionedTable>(
  db: Executor,
  table: T,
  id: string,
  expectedVersion: number,
  changes: Updateable<Database[T]>,
): Promise<Selectable<Database[T]>> {
  // The column names come from the typed `changes`; values travel as parameters.
  const assignments = Object.entries(changes as Record<string, unknown>)
    .filter(([, value]) => value !== undefined)
    .map(([column, value]) => sql`${sql.ref(column)} = ${isJson(value) ? JSON.stringify(value) : value}`);
  const row = await withCatalogErrors(() =>
    sql<Selectable<Database[T]>>`
      UPDATE ${sql.table(table)}
      SET ${sql.join([...assignments, sql`version = version + 1`, sql`updated_at = NOW()`])}
      WHERE id = ${id}::uuid AND version = ${expectedVersion} AND deleted_at IS NULL
      RETURNING *`.execute(db),
  );
  const updated = row.rows[0];
  if (updated) return updated;
  throw await missingOrStale(db, table, id, expectedVersion);
}

/** Marks the row deleted at `expectedVersion` (bumping the version). */
export async function softDeleteVersioned<T extends VersionedTable>(
  db: Executor,
  table: T,
  id: string,
  expectedVersion: number,
): Promise<Selectable<Database[T]>> {
  const row = await sql<Selectable<Database[T]>>`
    UPDATE ${sql.table(table)}
    SET deleted_at = NOW(), updated_at = NOW(), version = version + 1
    WHERE id = ${id}::uuid AND version = ${expectedVersion} AND deleted_at IS NULL
    RETURNING *`.execute(db);
  const deleted = row.rows[0];
  if (deleted) return deleted;
  throw await missingOrStale(db, table, id, expectedVersion);
}

export function versionMismatch(resource: string, id: string, current: number, expected: number): DomainError {
  return new DomainError(
    'precondition_failed',
    `${resource.toUpperCase()}.VERSION_MISMATCH`,
    `${resource} ${id} is at version ${current}, not ${expected}: fetch it again and retry`,
  );
}

async function missingOrStale(db: Executor, table: VersionedTable, id: string, expected: number): Promise<DomainError> {
  const current = (await findLive(db, table, id)) as { version: number } | undefined;
  if (!current) return notFound(RESOURCE[table], id);
  return versionMismatch(RESOURCE[table], id, current.version, expected);
}

const isJson = (value: unknown): boolean => typeof value === 'object' && value !== null && !(value instanceof Date);
