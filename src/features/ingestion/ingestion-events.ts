/**
 * Ingestion's event types. `playback.events_accepted` v1 (a batch id and a count, the
 * seeds' name, never published) moved here from the catalog; v2 carried the events
 * themselves; v3 (what the request path publishes) names the batch and its size only:
 * its events wait in `ingest_batches.payload`, where the matcher reads them together
 * with every other waiting batch, so the outbox and the bus carry a few bytes per batch
 * instead of every event again. v2 events upcast to v3 keep their events (a batch
 * accepted before the payload column is charged from them).
 * `campaign.budget_exhausted` stays a catalog type (its aggregate is the campaign); the
 * matcher emits it.
 */
import { Type, type Static, type TSchema } from 'typebox';
import type { EventDefinition } from '../../platform/events/registry.js';
import type { Upcaster } from '../../platform/events/upcasters.js';

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

export const EventsAcceptedV3 = Type.Object({
  batch_id: Uuid,
  count: Type.Integer({ minimum: 1, maximum: 1000 }),
  events: Type.Optional(Type.Array(AcceptedPlaybackEvent, { minItems: 1, maxItems: 1000 })),
});
export type EventsAcceptedV3 = Static<typeof EventsAcceptedV3>;

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
define({
  type: PlaybackEventTypes.eventsAccepted, version: 3, producer: 'api',
  description: 'Impressions and clicks accepted by POST /v1/events, stored and deduplicated, for the campaign matcher: the batch (at most 500 events) and its size; its events are in ingest_batches.payload until applied (`events` only on v2 events upcast)',
  schema: EventsAcceptedV3,
});

/** v2 → v3: the count added, the events kept. */
export const eventsAcceptedV2ToV3: Upcaster = {
  type: PlaybackEventTypes.eventsAccepted,
  from: 2,
  to: 3,
  upcast: async (data) => {
    const v2 = data as EventsAcceptedV2;
    return { batch_id: v2.batch_id, count: v2.events.length, events: v2.events } satisfies EventsAcceptedV3;
  },
};

export const ingestionUpcasters: readonly Upcaster[] = [eventsAcceptedV2ToV3];
