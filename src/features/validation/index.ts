/**
 * Validation of a video's placements (202 + poll): the routes, the validator consumer
 * and the feature's event types. The rules are pure (validation-rules.ts).
 */
import type { Consumer } from '../../platform/consumers/consumer.js';
import type { EventTypeSet } from '../../platform/events/registry.js';
import type { FeatureRoutes } from '../../platform/http/feature-routes.js';
import { validationEventDefinitions } from './validation-events.js';
import { validationRoutes } from './validation-routes.js';
import { videoValidator } from './video-validator.js';

export const validationHttp: FeatureRoutes = {
  name: 'validation',
  routes: validationRoutes,
  tags: [{ name: 'validation', description: "Asynchronous checks of a video's placements" }],
};

export const validationConsumers: readonly Consumer[] = [videoValidator];

export const validationEvents: EventTypeSet = { definitions: validationEventDefinitions };

export { ValidationEventTypes } from './validation-events.js';
export { validatePlacements, type VideoSnapshot } from './validation-rules.js';
