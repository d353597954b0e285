/** Video: the JSON shapes and how a row becomes one. */
import { Type } from 'typebox';
import type { Video as VideoModel } from './video-model.js';
import { Nullable, Timestamp, Uuid } from '../shared/catalog-http.js';
import { EXPECTED } from '../../../platform/http/validation.js';

const Status = Type.Enum(['processing', 'ready', 'archived']);
const fields = {
  title: Type.String({ minLength: 1, maxLength: 255 }),
  duration: Type.Number({ exclusiveMinimum: 0, maximum: 9_999_999, description: 'Seconds, millisecond precision' }),
  source_url: Nullable(Type.String({ format: 'uri', maxLength: 2048, [EXPECTED]: 'an absolute URL such as "https://videos.example.com/trailer.mp4"' })),
  status: Status,
  metadata: Type.Record(Type.String(), Type.Unknown(), { maxProperties: 100 }),
};

export const VideoStatusQuery = Type.Optional(Status);

export const NewVideo = Type.Object(
  {
    title: fields.title,
    duration: fields.duration,
    source_url: Type.Optional(fields.source_url),
    status: Type.Optional(Status),
    metadata: Type.Optional(fields.metadata),
  },
  { additionalProperties: false },
);
export const VideoPatchBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });

export const Video = Type.Object(
  {
    id: Uuid,
    owner_id: Nullable(Type.String({ description: 'The `sub` of the creator who owns it' })),
    ...fields,
    duration: Nullable(Type.Number({ description: 'Seconds, millisecond precision; null until an analysis (POST /v1/analyze) has read it' })),
    analysis_status: Nullable(Type.String({ description: 'queued, processing, completed or failed for a video made by POST /v1/analyze' })),
    analysis_progress: Nullable(Type.Integer({ minimum: 0, maximum: 100, description: 'Percent of the analysis done (download, probe, audio, transcription, storage)' })),
    failure_reason: Nullable(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Type.Integer(),
  },
  { additionalProperties: false, description: "A creator's video" },
);

export function videoJson(row: VideoModel) {
  return {
    id: row.id,
    owner_id: row.owner_id,
    title: row.title,
    duration: row.duration === null ? null : Number(row.duration),
    source_url: row.source_url,
    status: row.status,
    metadata: row.metadata ?? {},
    analysis_status: row.analysis_status,
    analysis_progress: row.analysis_progress,
    failure_reason: row.failure_reason,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    version: row.version,
  };
}
