/** Upcasters of the placement events (see platform/events/upcasters.ts). */
import type { Executor } from '../../../platform/db/schema.js';
import { UpcastError, type Upcaster } from '../../../platform/events/upcasters.js';
import { EventTypes } from '../catalog-events.js';

interface PlacementUpdatedV1 {
  placement_id: string;
  changes: Record<string, unknown>;
  previous_version: number;
  new_version: number;
}

const numberOf = (value: unknown): number | undefined => {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

/** The placement as it is now: the facts v1 events lack. */
async function placementFacts(tx: Executor, id: string) {
  const row = await tx.selectFrom('placements').select(['video_id', 'start_time', 'end_time']).where('id', '=', id).executeTakeFirst();
  return row && { video_id: row.video_id, start_time: Number(row.start_time), end_time: Number(row.end_time) };
}

/**
 * `placement.updated` v1 → v2: v2 adds the video and the time range after the change.
 * The time range comes from the change itself when it moved both ends, otherwise from the
 * placement as it is now (the best available answer for an old event).
 */
export const placementUpdatedV1ToV2: Upcaster = {
  type: EventTypes.placementUpdated,
  from: 1,
  to: 2,
  async upcast(data, tx) {
    const v1 = data as PlacementUpdatedV1;
    const facts = await placementFacts(tx, v1.placement_id);
    if (!facts) throw new UpcastError(`placement ${v1.placement_id} is unknown: cannot upcast placement.updated v1`);
    const start = numberOf(v1.changes.start_time) ?? facts.start_time;
    const end = numberOf(v1.changes.end_time) ?? facts.end_time;
    return { ...v1, video_id: facts.video_id, time_range: { start_time: start, end_time: end } };
  },
};
