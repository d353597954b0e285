/**
 * Placements in the database. Every function takes the executor (the database or a
 * transaction) first, so a use case decides the transaction boundary.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Placement, PlacementStatus, Position } from '../../../domain/placement.js';
import { DomainError, notFound } from '../../../domain/errors.js';
import { withDomainErrors } from '../errors.js';
import type { Database, PlacementsTable } from '../schema.js';

export type Executor = Kysely<Database>;

export interface NewPlacement {
  id?: string;
  videoId: string;
  productId: string;
  startTime: number;
  endTime: number;
  description?: string | null;
  position?: Position | null;
  status?: PlacementStatus;
  createdBy?: string | null;
}

export type PlacementChanges = Partial<
  Pick<Placement, 'startTime' | 'endTime' | 'description' | 'position' | 'status' | 'fileUrl'>
>;

export function toPlacement(row: Selectable<PlacementsTable>): Placement {
  return {
    id: row.id,
    videoId: row.video_id,
    productId: row.product_id,
    startTime: Number(row.start_time),
    endTime: Number(row.end_time),
    description: row.description,
    position: row.position,
    status: row.status,
    fileUrl: row.file_url,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    version: row.version,
  };
}

export async function insertPlacement(db: Executor, p: NewPlacement): Promise<Placement> {
  const row = await withDomainErrors(() =>
    db
      .insertInto('placements')
      .values({
        ...(p.id ? { id: p.id } : {}),
        video_id: p.videoId,
        product_id: p.productId,
        start_time: p.startTime,
        end_time: p.endTime,
        description: p.description ?? null,
        position: p.position ? JSON.stringify(p.position) : null,
        ...(p.status ? { status: p.status } : {}),
        created_by: p.createdBy ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  return toPlacement(row);
}

export async function findPlacement(db: Executor, id: string): Promise<Placement | undefined> {
  const row = await db
    .selectFrom('placements')
    .selectAll()
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row && toPlacement(row);
}

/**
 * Applies `changes` if the row is still at `expectedVersion`; bumps the version.
 * A missing row is NOT_FOUND; a row at another version is a stale precondition.
 */
export async function updatePlacement(
  db: Executor,
  id: string,
  expectedVersion: number,
  changes: PlacementChanges,
): Promise<Placement> {
  const row = await withDomainErrors(() =>
    db
      .updateTable('placements')
      .set((eb) => ({
        ...(changes.startTime !== undefined ? { start_time: changes.startTime } : {}),
        ...(changes.endTime !== undefined ? { end_time: changes.endTime } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        ...(changes.position !== undefined
          ? { position: changes.position ? JSON.stringify(changes.position) : null }
          : {}),
        ...(changes.status !== undefined ? { status: changes.status } : {}),
        ...(changes.fileUrl !== undefined ? { file_url: changes.fileUrl } : {}),
        version: eb('version', '+', 1),
        updated_at: new Date(),
      }))
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst(),
  );
  if (row) return toPlacement(row);
  throw await missingOrStale(db, id, expectedVersion);
}

export async function softDeletePlacement(db: Executor, id: string, expectedVersion: number): Promise<Placement> {
  const row = await db
    .updateTable('placements')
    .set((eb) => ({ deleted_at: new Date(), updated_at: new Date(), version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .where('version', '=', expectedVersion)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (row) return toPlacement(row);
  throw await missingOrStale(db, id, expectedVersion);
}

async function missingOrStale(db: Executor, id: string, expectedVersion: number): Promise<DomainError> {
  const current = await findPlacement(db, id);
  if (!current) return notFound('placement', id);
  return new DomainError(
    'precondition_failed',
    'PLACEMENT.VERSION_MISMATCH',
    `placement ${id} is at version ${current.version}, not ${expectedVersion}: fetch it again and retry`,
  );
}
