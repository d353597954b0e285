/**
 * The JSON Schema of the placement file (format version 1), served at
 * `GET /v1/schemas/placement-file.json`; the generator's output is checked against it
 * in the tests.
 */
import { Type } from 'typebox';

const Uuid = Type.String({ format: 'uuid' });
const Seconds = Type.Number({ minimum: 0, description: 'Seconds from the start of the video, millisecond precision' });
const Fraction = Type.Number({ minimum: 0, maximum: 1 });

export const PlacementFileSchema = Type.Object(
  {
    $schema: Type.String({ description: 'Where this schema is served' }),
    format_version: Type.Literal(1, { description: 'The format of this document; a breaking change gets a new one' }),
    video_id: Uuid,
    duration: Type.Number({ exclusiveMinimum: 0, description: 'The video duration in seconds' }),
    version: Type.Integer({ minimum: 1, description: 'Grows with every file written for this video: a client keeps the highest it saw' }),
    generated_at: Type.String({ format: 'date-time' }),
    tracking: Type.Object(
      {
        events_url: Type.String({ description: 'POST impressions and clicks here (`{id, type, placement_id, video_id, occurred_at}`)' }),
        key_header: Type.String({ description: 'The header carrying the publishable ingest key' }),
        event_types: Type.Array(Type.String()),
      },
      { additionalProperties: false },
    ),
    placements: Type.Array(
      Type.Object(
        {
          id: Uuid,
          start_time: Seconds,
          end_time: Seconds,
          position: Type.Union([
            Type.Object({ x: Fraction, y: Fraction, width: Fraction, height: Fraction }, { additionalProperties: false, description: 'Fractions of the frame' }),
            Type.Null(),
          ]),
          product: Type.Object(
            { id: Uuid, name: Type.String(), category: Type.Union([Type.String(), Type.Null()]), assets: Type.Array(Type.Unknown()) },
            { additionalProperties: false },
          ),
          campaign_id: Type.String({ format: 'uuid', description: 'The campaign impressions and clicks count against' }),
        },
        { additionalProperties: false },
      ),
      { description: 'What may be shown now, in start order' },
    ),
  },
  {
    $id: 'https://nedlia.com/schemas/placement-file/v1.json',
    title: 'Nedlia placement file',
    description: 'The placements of one video for the video SDK: show each product from start_time to end_time at position.',
    additionalProperties: false,
  },
);
