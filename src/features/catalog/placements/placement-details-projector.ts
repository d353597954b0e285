/**
 * The read-model projector: keeps `placement_details` current from placement events.
 * Each row remembers the version it reflects, so an older event arriving late (a
 * replayed dead letter, say) never overwrites a newer state.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../platform/db/schema.js';
import { EventTypes } from '../catalog-events.js';
import type { Consumer } from '../../../platform/consumers/consumer.js';

interface TimeRange {
  start_time: number;
  end_time: number;
}
interface Created {
  placement_id: string;
  video_id: string;
  product_id: string;
  time_range: TimeRange;
}
interface UpdatedV2 {
  placement_id: string;
  video_id: string;
  new_version: number;
  time_range: TimeRange;
}
interface Deleted {
  placement_id: string;
  video_id: string;
  version: number;
}

interface Details {
  placement_id: string;
  video_id: string;
  product_id?: string;
  start_time: number;
  end_time: number;
  version: number;
}

/**
 * Inserts the row, or updates it only if it reflects an older version: a created
 * event (version 1) never overwrites anything, an update never goes back in time.
 */
async function upsertNewer(tx: Kysely<Database>, details: Details, eventId: string): Promise<void> {
  const { placement_id: _id, ...changes } = details;
  await tx
    .insertInto('placement_details')
    .values({ ...details, last_event_id: eventId })
    .onConflict((oc) =>
      oc
        .column('placement_id')
        .doUpdateSet({ ...changes, last_event_id: eventId, updated_at: sql`now()` })
        .where('placement_details.version', '<', details.version),
    )
    .execute();
}

export const placementDetailsProjector: Consumer = {
  name: 'placement-details-projector',
  types: [EventTypes.placementCreated, EventTypes.placementUpdated, EventTypes.placementDeleted],
  maxAttempts: 8,
  async handle(event, tx, { logger }) {
    switch (event.type) {
      case EventTypes.placementCreated: {
        const d = event.data as Created;
        const { start_time, end_time } = d.time_range;
        await upsertNewer(tx, { placement_id: d.placement_id, video_id: d.video_id, product_id: d.product_id, start_time, end_time, version: 1 }, event.id);
        break;
      }
      case EventTypes.placementUpdated: {
        // Always v2 here: the runtime upcasts v1.
        const d = event.data as UpdatedV2;
        const { start_time, end_time } = d.time_range;
        await upsertNewer(tx, { placement_id: d.placement_id, video_id: d.video_id, start_time, end_time, version: d.new_version }, event.id);
        break;
      }
      case EventTypes.placementDeleted: {
        const d = event.data as Deleted;
        await tx
          .insertInto('placement_details')
          .values({ placement_id: d.placement_id, video_id: d.video_id, version: d.version, deleted: true, last_event_id: event.id })
          .onConflict((oc) =>
            oc.column('placement_id').doUpdateSet({ deleted: true, version: d.version, last_event_id: event.id, updated_at: sql`now()` }),
          )
          .execute();
        break;
      }
    }
    logger.debug({ placement_id: event.subject }, 'placement details projected');
  },
};
