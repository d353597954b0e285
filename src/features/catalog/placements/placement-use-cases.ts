/**
 * Placement use cases. A creator manages placements on the videos it owns, with
 * products it may see (those of active advertisers); an advertiser reads the
 * placements of its own products; admins do everything. Times are checked against
 * the video's duration, positions are fractions of the frame, and the editor
 * plugin may send SMPTE timecodes + fps instead of seconds.
 */
import { mayManageVideo, maySeePlacement, productVisibility } from '../shared/tenancy-rules.js';
import { assertValidPlacement, type Placement, type PlacementStatus, type Position } from './placement-rules.js';
import { EventTypes } from '../catalog-events.js';
import type { FieldError } from '../../../platform/errors.js';
import { TimecodeError, timecodeToSeconds } from './timecode-rules.js';
import { appendEvents } from '../../../platform/events/event-log.js';
import type { Page, PageRequest } from '../../../platform/db/keyset-page.js';
import {
  findPlacementReferences,
  findPlacementWithOwners,
  insertPlacement,
  type PlacementWithOwners,
  listPlacements as listRows,
  toPlacement,
} from './placement-repository.js';
import type { Executor } from '../../../platform/db/schema.js';
import { findLive, softDeleteVersioned, updateVersioned } from '../shared/versioned-rows.js';
import type { Actor } from '../../../platform/events/command-context.js';
import { advertiserScope, assertAccess, forbidden, invalid, isAdmin, isCreator, type CatalogCommand, type CatalogDeps } from '../shared/access.js';
import { canSeeProduct } from '../products/product-use-cases.js';
import { assertSomethingToChange, matchVersion, sentFields, transact, type ExpectedVersion } from '../shared/transact.js';
import { getVideo } from '../videos/video-use-cases.js';

/** Seconds, or the editor plugin's markers (`timecode_in`/`timecode_out` + `fps`). */
export interface PlacementTimesInput {
  start_time?: number;
  end_time?: number;
  timecode_in?: string;
  timecode_out?: string;
  fps?: number;
}

export interface NewPlacementInput extends PlacementTimesInput {
  video_id: string;
  product_id: string;
  description?: string | null;
  position?: Position | null;
  status?: PlacementStatus;
}

export type PlacementPatch = PlacementTimesInput & Partial<Pick<NewPlacementInput, 'product_id' | 'description' | 'position' | 'status'>>;

export interface PlacementFilter {
  video_id?: string;
  product_id?: string;
  status?: PlacementStatus;
}

interface Owners {
  videoOwnerId: string | null;
  productAdvertiserId: string;
}

const canWrite = (actor: Actor, owners: Owners): boolean => mayManageVideo(actor, owners.videoOwnerId);
const canSee = maySeePlacement;

/** Turns timecodes into seconds; the result has only the times that were sent. */
export function resolveTimes(input: PlacementTimesInput): { start_time?: number; end_time?: number } {
  const usesTimecode = input.timecode_in !== undefined || input.timecode_out !== undefined;
  if (!usesTimecode) {
    if (input.fps !== undefined) throw invalid('PLACEMENT.INVALID_TIMES', 'fps goes with timecode_in/timecode_out', [{ path: '/fps', message: 'is only allowed with timecode_in or timecode_out' }]);
    return { start_time: input.start_time, end_time: input.end_time };
  }
  const errors: FieldError[] = [];
  if (input.start_time !== undefined) errors.push({ path: '/start_time', message: 'send either seconds or timecodes, not both' });
  if (input.end_time !== undefined) errors.push({ path: '/end_time', message: 'send either seconds or timecodes, not both' });
  if (input.fps === undefined) errors.push({ path: '/fps', message: 'is required with timecodes' });
  const convert = (field: 'timecode_in' | 'timecode_out'): number | undefined => {
    const value = input[field];
    if (value === undefined || input.fps === undefined) return undefined;
    try {
      return timecodeToSeconds(value, input.fps);
    } catch (error) {
      if (!(error instanceof TimecodeError)) throw error;
      errors.push({ path: error.message.startsWith('fps') ? '/fps' : `/${field}`, message: error.message });
      return undefined;
    }
  };
  const times = { start_time: convert('timecode_in'), end_time: convert('timecode_out') };
  if (errors.length > 0) throw invalid('PLACEMENT.INVALID_TIMES', 'the placement times are invalid', errors);
  return times;
}

export async function listPlacements(deps: CatalogDeps, actor: Actor, filter: PlacementFilter, page: PageRequest): Promise<Page<Placement>> {
  const rows = { videoId: filter.video_id, productId: filter.product_id, status: filter.status };
  if (isAdmin(actor)) return listRows(deps.db, rows, page);
  const own = advertiserScope(actor);
  if (!isCreator(actor) && own === undefined) throw forbidden('list placements');
  return listRows(deps.db, { ...rows, videoOwnerId: isCreator(actor) ? actor.userId : undefined, productAdvertiserId: own }, page);
}

/** `GET /videos/{id}/placements`: the video must be visible to the caller. */
export async function listPlacementsOfVideo(
  deps: CatalogDeps,
  actor: Actor,
  videoId: string,
  filter: Omit<PlacementFilter, 'video_id'>,
  page: PageRequest,
): Promise<Page<Placement>> {
  await getVideo(deps, actor, videoId);
  return listPlacements(deps, actor, { ...filter, video_id: videoId }, page);
}

/** `found`, if the actor may do `action` on it: NOT_FOUND when it may not see it, FORBIDDEN when it may see but not change it. */
function allowed<T extends PlacementWithOwners>(found: T | undefined, actor: Actor, id: string, action: 'read' | 'change' | 'delete'): T {
  const visible = found !== undefined && canSee(actor, found);
  assertAccess(visible, action === 'read' || (visible && canWrite(actor, found!)), 'placement', id, action);
  return found!;
}

async function loadVisible(db: Executor, actor: Actor, id: string, action: 'change' | 'delete') {
  return allowed(await findPlacementWithOwners(db, id), actor, id, action);
}

/** Served from the placement cache when there is one: the owners in it decide who may see the row. */
export async function getPlacement(deps: CatalogDeps, actor: Actor, id: string): Promise<Placement> {
  const found = deps.placementCache
    ? await deps.placementCache.read(id, loadForCache.bind(null, deps.db, id))
    : await findPlacementWithOwners(deps.db, id);
  return allowed(found, actor, id, 'read').placement;
}

/** What the cache keeps of a placement: frozen, since every hit hands out the same object. */
async function loadForCache(db: Executor, id: string): Promise<PlacementWithOwners | undefined> {
  const found = await findPlacementWithOwners(db, id);
  return found && Object.freeze({ placement: Object.freeze(found.placement), videoOwnerId: found.videoOwnerId, productAdvertiserId: found.productAdvertiserId });
}

/** A product the actor may place: one it may see (creators: of an active advertiser). */
function mayUseProduct(actor: Actor, product: { advertiserId: string; advertiserActive: boolean }): boolean {
  const visibility = productVisibility(actor, product.advertiserId);
  return visibility === 'visible' || (visibility === 'visible while the advertiser is active' && product.advertiserActive);
}

/** The product must exist and be one the actor may use; otherwise it "does not exist" for them. */
async function assertUsableProduct(db: Executor, actor: Actor, productId: string): Promise<void> {
  const product = await findLive(db, 'products', productId);
  if (!product || !(await canSeeProduct(db, actor, product))) {
    throw invalid('REFERENCE.NOT_FOUND', 'the product does not exist', [{ path: '/product_id', message: 'does not exist' }]);
  }
}

export async function createPlacement({ db, context }: CatalogCommand, input: NewPlacementInput): Promise<Placement> {
  const { actor } = context;
  if (!isAdmin(actor) && !isCreator(actor)) throw forbidden('create placements');
  const times = resolveTimes(input);
  if (times.start_time === undefined || times.end_time === undefined) {
    throw invalid('PLACEMENT.INVALID_TIMES', 'a placement needs start and end', [
      ...(times.start_time === undefined ? [{ path: '/start_time', message: 'is required (or timecode_in + fps)' }] : []),
      ...(times.end_time === undefined ? [{ path: '/end_time', message: 'is required (or timecode_out + fps)' }] : []),
    ]);
  }
  const { start_time: startTime, end_time: endTime } = times;
  return transact(db, async (tx) => {
    const { video, product } = await findPlacementReferences(tx, input.video_id, input.product_id);
    if (!video || !canWrite(actor, { videoOwnerId: video.ownerId, productAdvertiserId: '' })) {
      throw invalid('REFERENCE.NOT_FOUND', 'the video does not exist', [{ path: '/video_id', message: 'does not exist' }]);
    }
    if (!product || !mayUseProduct(actor, product)) {
      throw invalid('REFERENCE.NOT_FOUND', 'the product does not exist', [{ path: '/product_id', message: 'does not exist' }]);
    }
    assertValidPlacement({ startTime, endTime, position: input.position }, video.duration);
    const placement = await insertPlacement(tx, {
      videoId: input.video_id,
      productId: input.product_id,
      startTime,
      endTime,
      description: input.description ?? null,
      position: input.position ?? null,
      status: input.status,
      createdBy: actor.userId,
    });
    await appendEvents(tx, context, [
      {
        type: EventTypes.placementCreated,
        subject: placement.id,
        data: {
          placement_id: placement.id, video_id: placement.videoId, product_id: placement.productId,
          time_range: { start_time: placement.startTime, end_time: placement.endTime }, created_by: actor.userId,
        },
      },
    ]);
    return placement;
  });
}

/**
 * Changes and deletions drop the row from the placement cache once their
 * transaction is over (committed, or failed at an unknown point), so the caller's
 * next read sees them; other processes learn of them from the database.
 */
export async function updatePlacement(command: CatalogCommand, id: string, expectedVersion: ExpectedVersion, patch: PlacementPatch): Promise<Placement> {
  try {
    return await changePlacement(command, id, expectedVersion, patch);
  } finally {
    command.placementCache?.invalidate(id);
  }
}

export async function deletePlacement(command: CatalogCommand, id: string, expectedVersion: ExpectedVersion): Promise<void> {
  try {
    await removePlacement(command, id, expectedVersion);
  } finally {
    command.placementCache?.invalidate(id);
  }
}

async function changePlacement({ db, context }: CatalogCommand, id: string, expectedVersion: ExpectedVersion, patch: PlacementPatch): Promise<Placement> {
  const { timecode_in: _in, timecode_out: _out, fps: _fps, start_time: _s, end_time: _e, ...rest } = patch;
  const times = resolveTimes(patch);
  const changes = sentFields({ ...rest, ...times });
  return transact(db, async (tx) => {
    const current = await loadVisible(tx, context.actor, id, 'change');
    const version = matchVersion('placement', id, current.placement.version, expectedVersion);
    assertSomethingToChange(changes);
    if (patch.product_id !== undefined) await assertUsableProduct(tx, context.actor, patch.product_id);
    const startTime = times.start_time ?? current.placement.startTime;
    const endTime = times.end_time ?? current.placement.endTime;
    const position = patch.position === undefined ? current.placement.position : patch.position;
    assertValidPlacement({ startTime, endTime, position }, current.videoDuration);
    const row = toPlacement(await updateVersioned(tx, 'placements', id, version, changes));
    await appendEvents(tx, context, [
      {
        type: EventTypes.placementUpdated,
        version: 2,
        subject: id,
        data: {
          placement_id: id, video_id: row.videoId, changes, previous_version: version, new_version: row.version,
          time_range: { start_time: row.startTime, end_time: row.endTime },
        },
      },
    ]);
    return row;
  });
}

async function removePlacement({ db, context }: CatalogCommand, id: string, expectedVersion: ExpectedVersion): Promise<void> {
  await transact(db, async (tx) => {
    const current = await loadVisible(tx, context.actor, id, 'delete');
    const version = matchVersion('placement', id, current.placement.version, expectedVersion);
    const row = toPlacement(await softDeleteVersioned(tx, 'placements', id, version));
    await appendEvents(tx, context, [
      { type: EventTypes.placementDeleted, subject: id, data: { placement_id: id, video_id: row.videoId, version: row.version } },
    ]);
  });
}
