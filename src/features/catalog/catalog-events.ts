/**
 * The catalog's event types: the seeds' catalog of advertiser, campaign, product, video
 * and placement events. Validation, placement files, notifications, sync, analysis and
 * ingestion define their own (`videoValidationRequested` keeps its name here for the
 * callers that use it).
 * Data fields are snake_case like the HTTP API. Add a version (never change one in place) for a breaking change,
 * and an upcaster beside it for consumers (placements/placement-upcasters.ts).
 */
import { Type, type TSchema } from 'typebox';
import type { EventDefinition } from '../../platform/events/registry.js';

const Uuid = Type.String({ format: 'uuid' });
const Money = Type.String({ pattern: '^-?\\d+(\\.\\d{1,2})?$' });
const Seconds = Type.Number({ minimum: 0 });
const Changes = Type.Record(Type.String(), Type.Unknown(), { description: 'Fields that changed, with their new values' });

/** Every version of every catalog event type, in the order defined below. */
export const catalogEventDefinitions: EventDefinition[] = [];
const define = <S extends TSchema>(definition: EventDefinition<S>): void => void catalogEventDefinitions.push(definition);

export const EventTypes = {
  advertiserCreated: 'com.nedlia.advertiser.created',
  advertiserUpdated: 'com.nedlia.advertiser.updated',
  advertiserDeleted: 'com.nedlia.advertiser.deleted',
  campaignCreated: 'com.nedlia.campaign.created',
  campaignUpdated: 'com.nedlia.campaign.updated',
  campaignDeleted: 'com.nedlia.campaign.deleted',
  campaignBudgetExhausted: 'com.nedlia.campaign.budget_exhausted',
  productCreated: 'com.nedlia.product.created',
  productUpdated: 'com.nedlia.product.updated',
  productDeleted: 'com.nedlia.product.deleted',
  videoCreated: 'com.nedlia.video.created',
  videoUpdated: 'com.nedlia.video.updated',
  videoDeleted: 'com.nedlia.video.deleted',
  videoValidationRequested: 'com.nedlia.video.validation_requested',
  placementCreated: 'com.nedlia.placement.created',
  placementUpdated: 'com.nedlia.placement.updated',
  placementDeleted: 'com.nedlia.placement.deleted',
} as const;

export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

const changed = (aggregate: string, idField: string) =>
  Type.Object({ [idField]: Uuid, changes: Changes, previous_version: Type.Integer(), new_version: Type.Integer() }, { description: `What changed on a ${aggregate}` });
const deleted = (idField: string) => Type.Object({ [idField]: Uuid, version: Type.Integer() });

define({
  type: EventTypes.advertiserCreated, version: 1, producer: 'api', description: 'An advertiser was created',
  schema: Type.Object({ advertiser_id: Uuid, name: Type.String(), status: Type.String() }),
});
define({ type: EventTypes.advertiserUpdated, version: 1, producer: 'api', description: 'An advertiser was modified', schema: changed('advertiser', 'advertiser_id') });
define({ type: EventTypes.advertiserDeleted, version: 1, producer: 'api', description: 'An advertiser was soft-deleted', schema: deleted('advertiser_id') });

define({
  type: EventTypes.campaignCreated, version: 1, producer: 'api', description: 'A campaign was created',
  schema: Type.Object({
    campaign_id: Uuid, advertiser_id: Uuid, name: Type.String(), budget: Money, currency: Type.String(),
    status: Type.String(), start_date: Type.String(), end_date: Type.String(), product_ids: Type.Array(Uuid),
  }),
});
define({ type: EventTypes.campaignUpdated, version: 1, producer: 'api', description: 'A campaign was modified', schema: changed('campaign', 'campaign_id') });
define({ type: EventTypes.campaignDeleted, version: 1, producer: 'api', description: 'A campaign was soft-deleted', schema: deleted('campaign_id') });
define({
  type: EventTypes.campaignBudgetExhausted, version: 1, producer: 'campaign-matcher',
  description: 'A campaign spent its whole budget and stops serving',
  schema: Type.Object({ campaign_id: Uuid, advertiser_id: Uuid, budget: Money, spent: Money }),
});

define({
  type: EventTypes.productCreated, version: 1, producer: 'api', description: 'A product was created',
  schema: Type.Object({ product_id: Uuid, advertiser_id: Uuid, name: Type.String() }),
});
define({ type: EventTypes.productUpdated, version: 1, producer: 'api', description: 'A product was modified', schema: changed('product', 'product_id') });
define({ type: EventTypes.productDeleted, version: 1, producer: 'api', description: 'A product was soft-deleted', schema: deleted('product_id') });

define({
  type: EventTypes.videoCreated, version: 1, producer: 'api', description: 'A video was registered',
  schema: Type.Object({ video_id: Uuid, owner_id: Type.Union([Type.String(), Type.Null()]), title: Type.String() }),
});
define({ type: EventTypes.videoUpdated, version: 1, producer: 'api', description: 'A video was modified', schema: changed('video', 'video_id') });
define({ type: EventTypes.videoDeleted, version: 1, producer: 'api', description: 'A video was soft-deleted (its media, transcript and files go too)', schema: deleted('video_id') });

const TimeRange = Type.Object({ start_time: Seconds, end_time: Seconds });
define({
  type: EventTypes.placementCreated, version: 1, producer: 'api', description: 'A placement was created',
  schema: Type.Object({
    placement_id: Uuid, video_id: Uuid, product_id: Uuid, time_range: TimeRange,
    created_by: Type.Optional(Type.String()),
  }),
});
define({
  type: EventTypes.placementUpdated, version: 1, producer: 'api', description: 'A placement was modified (v1: changes only)',
  schema: changed('placement', 'placement_id'),
});
define({
  type: EventTypes.placementUpdated, version: 2, producer: 'api',
  description: 'A placement was modified (v2: adds the video and the full time range after the change, so consumers need no read)',
  schema: Type.Object({
    placement_id: Uuid, video_id: Uuid, changes: Changes, previous_version: Type.Integer(), new_version: Type.Integer(),
    time_range: TimeRange,
  }),
});
define({
  type: EventTypes.placementDeleted, version: 1, producer: 'api', description: 'A placement was soft-deleted',
  schema: Type.Object({ placement_id: Uuid, video_id: Uuid, version: Type.Integer() }),
});
