/** The shape of one SDK event and of the 202 answer. */
import { Type } from 'typebox';
import { EXPECTED } from '../../../platform/http/validation.js';

const Uuid = Type.String({ format: 'uuid', [EXPECTED]: 'a UUID such as "0b9f3c1e-6a4d-4f2b-9c8e-2d7a5b1f4e60"' });

export const PlaybackEvent = Type.Object(
  {
    id: { ...Uuid, description: 'Made by the client; the dedup key: the same id counts once however often it is sent' },
    type: Type.Enum(['impression', 'click', 'view_start', 'view_end']),
    placement_id: Uuid,
    video_id: Uuid,
    occurred_at: Type.String({ format: 'date-time', [EXPECTED]: 'an RFC 3339 date-time such as "2026-06-01T12:00:00Z"' }),
    session_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'The viewer session (frequency caps count per session)' })),
    properties: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 50, description: 'Anything else, kept with the raw event (at most 4 KiB)' })),
  },
  { additionalProperties: false },
);

export const EventsBody = Type.Union([
  Type.Object({ events: Type.Array(PlaybackEvent, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false, title: 'A batch' }),
  { ...PlaybackEvent, title: 'One event' },
], { description: 'One event, or `{events: [...]}` with 1 to 1000' });

export const IngestAnswer = Type.Object(
  {
    accepted: Type.Integer({ description: 'New events, stored durably before this answer' }),
    duplicates: Type.Integer({ description: 'Events whose id was seen before (or twice in this request): counted once' }),
    rejected: Type.Array(
      Type.Object({ index: Type.Integer(), errors: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })) }),
      { description: 'Events refused, by their index in the batch (0 for a single event), with the reasons' },
    ),
  },
  { additionalProperties: false },
);
