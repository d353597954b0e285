/** Placement: the JSON shapes and how one becomes JSON. Times are seconds (ms precision). */
import { Type } from 'typebox';
import type { Placement as PlacementModel } from './placement-rules.js';
import { Nullable, Timestamp, Uuid } from '../shared/catalog-http.js';

const Status = Type.Enum(['draft', 'active', 'archived']);
const Seconds = Type.Number({ minimum: 0, maximum: 9_999_999, description: 'Seconds from the start of the video' });
const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const Position = Type.Object(
  { x: Fraction, y: Fraction, width: Fraction, height: Fraction },
  { additionalProperties: false, description: 'Fractions of the frame (0..1), from the top left' },
);
const Timecode = Type.String({ maxLength: 16, description: 'SMPTE HH:MM:SS:FF, or HH:MM:SS;FF for drop-frame' });
const fields = {
  product_id: Uuid,
  start_time: Seconds,
  end_time: Seconds,
  description: Nullable(Type.String({ maxLength: 10_000 })),
  position: Nullable(Position),
  status: Status,
};
const markers = {
  timecode_in: Type.Optional(Timecode),
  timecode_out: Type.Optional(Timecode),
  fps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 240, description: 'Frame rate of the timecodes (29.97, 25, …)' })),
};

export const PlacementStatusQuery = Type.Optional(Status);

/** What a creator may set on a placement, when creating or updating it. */
const editable = {
  start_time: Type.Optional(Seconds),
  end_time: Type.Optional(Seconds),
  ...markers,
  description: Type.Optional(fields.description),
  position: Type.Optional(fields.position),
  status: Type.Optional(Status),
};

export const NewPlacement = Type.Object(
  { video_id: Uuid, product_id: Uuid, ...editable },
  { additionalProperties: false, description: 'Send start_time + end_time, or timecode_in + timecode_out + fps' },
);
export const PlacementPatchBody = Type.Object(
  { product_id: Type.Optional(fields.product_id), ...editable },
  { additionalProperties: false, minProperties: 1 },
);

export const Placement = Type.Object(
  {
    id: Uuid,
    video_id: Uuid,
    ...fields,
    file_url: Nullable(Type.String({ description: 'Read-only: the generated placement file' })),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Type.Integer(),
  },
  { additionalProperties: false, description: 'A product shown in a video over a time range' },
);

export function placementJson(p: PlacementModel) {
  return {
    id: p.id,
    video_id: p.videoId,
    product_id: p.productId,
    start_time: p.startTime,
    end_time: p.endTime,
    description: p.description,
    position: p.position,
    status: p.status,
    file_url: p.fileUrl,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
    version: p.version,
  };
}
