/**
 * Upcasters: turn an event written under an older schema version into the current one,
 * so a consumer only ever handles the latest shape while old events still flow (during a
 * migration, or when dead letters are replayed). Each upcaster moves one version up;
 * `upcast` chains them. When the old shape lacks a fact the new one carries, the
 * upcaster asks the caller through `UpcastLookup` (the runtime reads it in the
 * consumer's transaction).
 */
import type { CloudEvent } from './cloud-event.js';
import { EventTypes } from '../../features/catalog/catalog-events.js';

export interface PlacementFacts {
  video_id: string;
  start_time: number;
  end_time: number;
}

/** Facts an upcaster may need; implemented by the consumer runtime. */
export interface UpcastLookup {
  placement(id: string): Promise<PlacementFacts | undefined>;
}

export interface Upcaster {
  type: string;
  from: number;
  to: number;
  upcast(data: unknown, lookup: UpcastLookup): Promise<unknown>;
}

export class UpcastError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpcastError';
  }
}

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

/**
 * `placement.updated` v1 → v2: v2 adds the video and the time range after the change.
 * The time range comes from the change itself when it moved both ends, otherwise from the
 * placement as it is now (the best available answer for an old event).
 */
export const placementUpdatedV1ToV2: Upcaster = {
  type: EventTypes.placementUpdated,
  from: 1,
  to: 2,
  async upcast(data, lookup) {
    const v1 = data as PlacementUpdatedV1;
    const facts = await lookup.placement(v1.placement_id);
    if (!facts) throw new UpcastError(`placement ${v1.placement_id} is unknown: cannot upcast placement.updated v1`);
    const start = numberOf(v1.changes.start_time) ?? facts.start_time;
    const end = numberOf(v1.changes.end_time) ?? facts.end_time;
    return { ...v1, video_id: facts.video_id, time_range: { start_time: start, end_time: end } };
  },
};

export const upcasters: readonly Upcaster[] = [placementUpdatedV1ToV2];

/** The event at the highest version the upcasters reach from its own. */
export async function upcast(event: CloudEvent, lookup: UpcastLookup, all: readonly Upcaster[] = upcasters): Promise<CloudEvent> {
  let current = event;
  for (;;) {
    const next = all.find((u) => u.type === current.type && u.from === current.schemaversion);
    if (!next) return current;
    current = { ...current, data: await next.upcast(current.data, lookup), schemaversion: next.to };
  }
}
