/**
 * The placement-file feature's event types: a video's file was asked for (internal:
 * the fan-out of a change touching several videos, see placement-file-consumers.ts),
 * written, or removed.
 */
import { Type, type TSchema } from 'typebox';
import type { EventDefinition } from '../../platform/events/registry.js';

const Uuid = Type.String({ format: 'uuid' });

export const PlacementFileEventTypes = {
  placementFileRequested: 'com.nedlia.placement_file.requested',
  placementFileGenerated: 'com.nedlia.placement_file.generated',
  placementFileRemoved: 'com.nedlia.placement_file.removed',
} as const;

export const placementFileEventDefinitions: EventDefinition[] = [];
const define = <S extends TSchema>(definition: EventDefinition<S>): void => void placementFileEventDefinitions.push(definition);

define({
  type: PlacementFileEventTypes.placementFileRequested, version: 1, producer: 'placement-file-generator',
  description: 'A change may alter what a video shows: its placement file is to be written again (one event per video of a change that touched several)',
  schema: Type.Object({ video_id: Uuid }),
});
define({
  type: PlacementFileEventTypes.placementFileGenerated, version: 1, producer: 'placement-file-generator',
  description: 'A new placement file was written for a video',
  schema: Type.Object({
    video_id: Uuid, file_url: Type.String(), etag: Type.String(), placements_count: Type.Integer({ minimum: 0 }),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
});
define({
  type: PlacementFileEventTypes.placementFileRemoved, version: 1, producer: 'placement-file-generator',
  description: "A deleted video's placement file was removed",
  schema: Type.Object({ video_id: Uuid }),
});
