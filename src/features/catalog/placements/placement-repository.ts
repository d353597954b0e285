/**
 * Placements in the database. Every function takes the executor (the database or a
 * transaction) first, so a use case decides the transaction boundary.
 */
import { CompiledQuery, type Selectable } from 'kysely';
import type { Placement, PlacementStatus, Position } from './placement-rules.js';
import { DomainError, notFound } from '../../../platform/errors.js';
import { withCatalogErrors } from '../catalog-constraints.js';
import { prepared, preparedStatement } from '../../../platform/db/prepared-statements.js';
import type { Executor, PlacementsTable } from '../../../platform/db/schema.js';
import { readPage, toPage, type Page, type PageRequest } from '../../../platform/db/keyset-page.js';


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

/** A placement row as read: every column but the owners copied from its video and product. */
export type PlacementRow = Omit<Selectable<PlacementsTable>, 'video_owner_id' | 'product_advertiser_id'>;

export function toPlacement(row: PlacementRow): Placement {
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

/** Runs as a prepared statement (one per shape: with or without an id or status given). */
export async function insertPlacement(db: Executor, p: NewPlacement): Promise<Placement> {
  const query = db
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
    .returning(PLACEMENT_COLUMNS)
    .compile();
  const row = await withCatalogErrors(async () => (await db.executeQuery(prepared(query))).rows[0]);
  if (!row) throw new Error('the placement insert returned no row');
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
  const row = await withCatalogErrors(() =>
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

export interface PlacementFilter {
  videoId?: string;
  productId?: string;
  status?: PlacementStatus;
  /** Tenancy: only placements on videos this user owns (creators). */
  videoOwnerId?: string;
  /** Tenancy: only placements of this advertiser's products (advertisers). */
  productAdvertiserId?: string;
}

export async function listPlacements(db: Executor, filter: PlacementFilter, page: PageRequest): Promise<Page<Placement>> {
  const { videoOwnerId, productAdvertiserId } = filter;
  // Tenancy scopes: a caller with both roles sees the union of what each role sees.
  // One ordered page per scope, merged: an OR of both would read every match and sort.
  if (videoOwnerId !== undefined && productAdvertiserId !== undefined) {
    const [own, promoted] = [
      await listPlacementRows(db, { ...filter, productAdvertiserId: undefined }, page),
      await listPlacementRows(db, { ...filter, videoOwnerId: undefined }, page),
    ];
    const merged = [...new Map([...own, ...promoted].map((row) => [row.id, row])).values()].sort(byPageOrder);
    return toPage(merged.slice(0, page.limit + 1), page.limit, (row) => toPlacement(row));
  }
  return toPage(await listPlacementRows(db, filter, page), page.limit, (row) => toPlacement(row));
}

/** Keyset order: created_at (exact, as epoch microseconds), then id. */
function byPageOrder(a: { cursor_micros: string; id: string }, b: { cursor_micros: string; id: string }): number {
  const diff = BigInt(a.cursor_micros) - BigInt(b.cursor_micros);
  return diff !== 0n ? (diff < 0n ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * One page in (created_at, id) order, for at most one tenancy scope. Each filter and
 * scope has an index in that order (migration 0014): the scope is a column of the row
 * itself (its video's creator, its product's advertiser), so the page is read from
 * the index and stops after `limit + 1` rows instead of sorting every match.
 */
function listPlacementRows(db: Executor, filter: PlacementFilter, page: PageRequest) {
  let query = db
    .selectFrom('placements')
    .select(PLACEMENT_COLUMNS)
    .where('placements.deleted_at', 'is', null)
    // A placement of a deleted video or product is hidden with it.
    .where((eb) => eb.exists(eb.selectFrom('videos').select('videos.id').whereRef('videos.id', '=', 'placements.video_id').where('videos.deleted_at', 'is', null)))
    .where((eb) => eb.exists(eb.selectFrom('products').select('products.id').whereRef('products.id', '=', 'placements.product_id').where('products.deleted_at', 'is', null)));
  if (filter.videoId !== undefined) query = query.where('placements.video_id', '=', filter.videoId);
  if (filter.productId !== undefined) query = query.where('placements.product_id', '=', filter.productId);
  if (filter.status) query = query.where('placements.status', '=', filter.status);
  if (filter.videoOwnerId !== undefined) query = query.where('placements.video_owner_id', '=', filter.videoOwnerId);
  if (filter.productAdvertiserId !== undefined) query = query.where('placements.product_advertiser_id', '=', filter.productAdvertiserId);
  return readPage(db, query, 'placements', page);
}

/** Every placement column, named: a prepared statement keeps its result shape even if a column is added later. */
const PLACEMENT_COLUMNS = [
  'placements.id', 'placements.video_id', 'placements.product_id', 'placements.start_time', 'placements.end_time',
  'placements.description', 'placements.position', 'placements.status', 'placements.file_url', 'placements.created_at',
  'placements.updated_at', 'placements.created_by', 'placements.deleted_at', 'placements.version',
] as const;

const withOwnersQuery = (db: Executor, id: string) =>
  db
    .selectFrom('placements')
    .innerJoin('videos', 'videos.id', 'placements.video_id')
    .innerJoin('products', 'products.id', 'placements.product_id')
    .select(PLACEMENT_COLUMNS)
    .select(['videos.owner_id as video_owner_id', 'videos.duration as video_duration', 'products.advertiser_id as product_advertiser_id'])
    .where('placements.id', '=', id)
    .where('placements.deleted_at', 'is', null)
    // A placement of a deleted video or product is hidden with it.
    .where('videos.deleted_at', 'is', null)
    .where('products.deleted_at', 'is', null);

type WithOwnersRow = Awaited<ReturnType<ReturnType<typeof withOwnersQuery>['executeTakeFirstOrThrow']>>;

/**
 * `findPlacementWithOwners` answers every read of one placement (GET, and the
 * access check of PATCH and DELETE), so its SQL is built once, not per call: the
 * query builder costs more CPU than the query. It runs as the prepared statement
 * `placement_with_owners` (parsed and planned once per connection). The SQL does
 * not depend on the id, which is its only parameter.
 */
let withOwnersSql: CompiledQuery<WithOwnersRow> | undefined;

function compiledWithOwners(db: Executor, id: string): CompiledQuery<WithOwnersRow> {
  withOwnersSql ??= preparedStatement('placement_with_owners', withOwnersQuery(db, id).compile());
  return { ...withOwnersSql, parameters: [id] };
}

/** A placement with who owns it: its video's creator and its product's advertiser (neither ever changes). */
export interface PlacementWithOwners {
  placement: Placement;
  videoOwnerId: string | null;
  productAdvertiserId: string;
}

/** A live placement with what tenancy needs (its owners) and its video's duration, in one query. */
export async function findPlacementWithOwners(
  db: Executor,
  id: string,
): Promise<(PlacementWithOwners & { videoDuration: number | undefined }) | undefined> {
  const row = (await db.executeQuery(compiledWithOwners(db, id))).rows[0];
  if (!row) return undefined;
  const { video_owner_id, video_duration, product_advertiser_id, ...placement } = row;
  return {
    placement: toPlacement(placement),
    videoOwnerId: video_owner_id,
    productAdvertiserId: product_advertiser_id,
    videoDuration: video_duration === null ? undefined : Number(video_duration),
  };
}

/** What a new placement refers to, as the create checks it: its video and product, live or absent. */
export interface PlacementReferences {
  video?: { ownerId: string | null; duration: number | undefined };
  product?: { advertiserId: string; advertiserActive: boolean };
}

/** The video, the product and whether the product's advertiser is active, in one prepared statement. */
const REFERENCES = preparedStatement(
  'placement_references',
  CompiledQuery.raw(
    `SELECT v.id IS NOT NULL AS video_found, v.owner_id AS video_owner_id, v.duration::text AS video_duration,
            p.advertiser_id AS product_advertiser_id, a.id IS NOT NULL AS advertiser_active
     FROM (SELECT 1) AS one
     LEFT JOIN videos v ON v.id = $1::uuid AND v.deleted_at IS NULL
     LEFT JOIN products p ON p.id = $2::uuid AND p.deleted_at IS NULL
     LEFT JOIN advertisers a ON a.id = p.advertiser_id AND a.status = 'active' AND a.deleted_at IS NULL`,
    [],
  ),
);

interface ReferencesRow {
  video_found: boolean;
  video_owner_id: string | null;
  video_duration: string | null;
  product_advertiser_id: string | null;
  advertiser_active: boolean;
}

export async function findPlacementReferences(db: Executor, videoId: string, productId: string): Promise<PlacementReferences> {
  const row = (await db.executeQuery<ReferencesRow>({ ...REFERENCES, parameters: [videoId, productId] })).rows[0];
  if (!row) return {};
  return {
    ...(row.video_found ? { video: { ownerId: row.video_owner_id, duration: row.video_duration === null ? undefined : Number(row.video_duration) } } : {}),
    ...(row.product_advertiser_id !== null ? { product: { advertiserId: row.product_advertiser_id, advertiserActive: row.advertiser_active } } : {}),
  };
}

