/**
 * Ingestion's event types. `playback.events_accepted` v1 (a batch id and a count, the
 * seeds' name, never published) moved here from the catalog; v2 carries the events
 * themselves, so the matcher needs no read of the raw table and any bus can carry them.
 * `campaign.budget_exhausted` stays a catalog type (its aggregate is the campaign); the
 * matcher emits it.
 */
import { Type, type Static, type TSchema } from 'typebox';
import type { EventDefinition } from '../../platform/events/registry.js';

const Uuid = Type.String({ format: 'uuid' });

export const PlaybackEventTypes = {
  eventsAccepted: 'com.nedlia.playback.events_accepted',
} as const;

export const AcceptedPlaybackEvent = Type.Object({
  id: Uuid,
  type: Type.Union([Type.Literal('impression'), Type.Literal('click')]),
  placement_id: Uuid,
  product_id: Uuid,
  occurred_at: Type.String({ format: 'date-time' }),
  session_id: Type.Optional(Type.String({ maxLength: 128 })),
});
export type AcceptedPlaybackEvent = Static<typeof AcceptedPlaybackEvent>;

export const EventsAcceptedV2 = Type.Object({ batch_id: Uuid, events: Type.Array(AcceptedPlaybackEvent, { minItems: 1, maxItems: 1000 }) });
export type EventsAcceptedV2 = Static<typeof EventsAcceptedV2>;

export const ingestionEventDefinitions: EventDefinition[] = [];
const define = <S extends TSchema>(definition: EventDefinition<S>): void => void ingestionEventDefinitions.push(definition);

define({
  type: PlaybackEventTypes.eventsAccepted, version: 1, producer: 'api', description: 'A batch of SDK playback events was accepted for matching (v1: its id and size only)',
  schema: Type.Object({ batch_id: Uuid, count: Type.Integer({ minimum: 1 }) }),
});
define({
  type: PlaybackEventTypes.eventsAccepted, version: 2, producer: 'api',
  description: 'Impressions and clicks accepted by POST /v1/events, stored and deduplicated, for the campaign matcher (at most 500 per event)',
  schema: EventsAcceptedV2,
});
