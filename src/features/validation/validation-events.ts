/**
 * The validation feature's event types: a run was requested (by the API), picked up,
 * and finished (by the validator). Data fields are snake_case like the HTTP API.
 */
import { Type, type TSchema } from 'typebox';
import type { EventDefinition } from '../../platform/events/registry.js';
import { EventTypes as CatalogEventTypes } from '../catalog/index.js';

const Uuid = Type.String({ format: 'uuid' });

export const ValidationEventTypes = {
  videoValidationRequested: CatalogEventTypes.videoValidationRequested,
  videoValidationStarted: 'com.nedlia.video.validation_started',
  videoValidationCompleted: 'com.nedlia.video.validation_completed',
} as const;

export const validationEventDefinitions: EventDefinition[] = [];
const define = <S extends TSchema>(definition: EventDefinition<S>): void => void validationEventDefinitions.push(definition);

const Options = Type.Object(
  { min_duration: Type.Number({ minimum: 0 }), max_concurrent_products: Type.Integer({ minimum: 1 }) },
  { description: 'The limits the run checks against' },
);

define({
  type: ValidationEventTypes.videoValidationRequested, version: 1, producer: 'api', description: 'Validation was requested for a video',
  schema: Type.Object({ video_id: Uuid, validation_run_id: Uuid, requested_by: Type.Optional(Type.String()), options: Type.Optional(Options) }),
});
define({
  type: ValidationEventTypes.videoValidationStarted, version: 1, producer: 'video-validator',
  description: 'The validator picked up a validation run (its status is running)',
  schema: Type.Object({ video_id: Uuid, validation_run_id: Uuid, options: Options }),
});
define({
  type: ValidationEventTypes.videoValidationCompleted, version: 1, producer: 'video-validator', description: 'Validation of a video finished',
  schema: Type.Object({ video_id: Uuid, validation_run_id: Uuid, is_valid: Type.Boolean(), issues_count: Type.Integer({ minimum: 0 }) }),
});
