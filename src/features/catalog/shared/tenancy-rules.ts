/**
 * Tenancy: who may see and change which catalog rows (the role table of API.md), as
 * decisions on facts the use cases look up. Admins see and change everything; an
 * advertiser its own advertiser row and what belongs to it; a creator its own videos
 * and their placements. What a caller may not see is answered as not found by the use
 * cases, never as forbidden.
 */
import { advertiserScope, isAdmin, isCreator, type Actor } from '../../../platform/auth/actor.js';

/** Rows that belong to an advertiser (the advertiser itself, its campaigns and products). */
export function mayManageAdvertiserRows(actor: Actor, advertiserId: string): boolean {
  return isAdmin(actor) || advertiserScope(actor) === advertiserId;
}

/** A video and its placements, by the video's owner. */
export function mayManageVideo(actor: Actor, videoOwnerId: string | null): boolean {
  return isAdmin(actor) || (isCreator(actor) && videoOwnerId !== null && videoOwnerId === actor.userId);
}

/** A placement is seen by whoever manages its video, and by the advertiser of its product. */
export function maySeePlacement(actor: Actor, owners: { videoOwnerId: string | null; productAdvertiserId: string }): boolean {
  const scope = advertiserScope(actor);
  return mayManageVideo(actor, owners.videoOwnerId) || (scope !== undefined && scope === owners.productAdvertiserId);
}

/**
 * A product is seen by whoever manages its advertiser's rows, and by creators while its
 * advertiser is active (the use case looks that up only when the answer depends on it).
 */
export function productVisibility(actor: Actor, advertiserId: string): 'visible' | 'hidden' | 'visible while the advertiser is active' {
  if (mayManageAdvertiserRows(actor, advertiserId)) return 'visible';
  return isCreator(actor) ? 'visible while the advertiser is active' : 'hidden';
}
