/**
 * Placement files for the video SDK: the requester and generator consumers, the public
 * read of a video's file, the file's JSON Schema and the feature's event types.
 */
import type { EventTypeSet } from '../../platform/events/registry.js';
import type { FeatureRoutes } from '../../platform/http/feature-routes.js';
import { placementFileEventDefinitions } from './placement-file-events.js';
import { placementFileRoutes } from './placement-file-routes.js';

export const placementFilesHttp: FeatureRoutes = {
  name: 'placement-files',
  routes: placementFileRoutes,
  tags: [{ name: 'placement-files', description: 'What the video SDK reads: the placements a video shows now' }],
};

export { placementFileConsumers, placementFileConsumersWith } from './placement-file-consumers.js';

export const placementFileEvents: EventTypeSet = { definitions: placementFileEventDefinitions };

export { PlacementFileEventTypes } from './placement-file-events.js';
export { PlacementFileSchema } from './placement-file-schemas.js';
