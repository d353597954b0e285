/**
 * What makes an accepted playback event, beyond its shape. Pure.
 *
 * The dedup window: an event id is remembered for `windowDays + 2` days after it was
 * accepted (ingest_event_ids, purged hourly), and an event whose `occurred_at` is
 * older than `windowDays` is refused. An event may be at most 5 minutes in the future, so
 * any copy that is still admissible comes back within the time its id is remembered:
 * a duplicate is always recognised, whenever it is resent, and the table holds at most
 * the ids of `windowDays + 2` days.
 */
import type { FieldError } from '../../../platform/errors.js';

/** How far in the future `occurred_at` may be (clock skew of viewers' devices). */
export const MAX_FUTURE_MS = 5 * 60 * 1000;
/** Days the dedup table keeps an id beyond the admission window. */
export const DEDUP_GRACE_DAYS = 2;
export const MAX_BATCH = 1000;
/** Serialized size of `properties` an event may carry. */
export const MAX_PROPERTIES_BYTES = 4096;

const DAY_MS = 86_400_000;

export function dedupRetentionDays(windowDays: number): number {
  return windowDays + DEDUP_GRACE_DAYS;
}

/** Problems with `occurred_at` at `now`, as field errors under `prefix`. */
export function occurredAtErrors(occurredAt: string, now: number, windowDays: number): FieldError[] {
  const at = Date.parse(occurredAt);
  if (Number.isNaN(at)) return [{ path: '/occurred_at', message: 'must be an RFC 3339 date-time such as "2026-06-01T12:00:00Z"' }];
  if (at > now + MAX_FUTURE_MS) return [{ path: '/occurred_at', message: 'is more than 5 minutes in the future' }];
  if (at < now - windowDays * DAY_MS) return [{ path: '/occurred_at', message: `is older than the ${windowDays}-day ingestion window` }];
  return [];
}

/** What the request path knows of a placement. */
export interface PlacementFacts {
  id: string;
  videoId: string;
  productId: string;
  ownerId: string | null;
  /** Active, not deleted, on a video that is not deleted. */
  live: boolean;
}

/** Why an event for `placement` is refused for a caller that may post for `creatorId` (undefined: any). */
export function placementErrors(event: { placement_id: string; video_id: string }, placement: PlacementFacts | undefined, creatorId: string | undefined): FieldError[] {
  if (!placement || (creatorId !== undefined && placement.ownerId !== creatorId)) {
    return [{ path: '/placement_id', message: 'names no placement of this key’s videos' }];
  }
  if (!placement.live) return [{ path: '/placement_id', message: 'names a placement that is not active (draft, archived or deleted)' }];
  if (placement.videoId !== event.video_id) return [{ path: '/video_id', message: 'is not the video of this placement' }];
  return [];
}
