/** TypeBox shapes of validation runs and the model → JSON mapping. */
import { Type } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../catalog/index.js';
import type { ValidationRun } from './validation-model.js';

const Seconds = Type.Number({ minimum: 0 });

export const ValidationRequestBody = Type.Object(
  {
    min_duration: Type.Optional(Type.Number({ minimum: 0, maximum: 3600, description: 'Placements shorter than this (seconds) get `too_short`; default 1' })),
    max_concurrent_products: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'More products on screen at once get `too_many_products`; default 3' })),
  },
  { additionalProperties: false },
);

const IssueJson = Type.Object(
  {
    code: Type.String({ description: 'Stable: timing_conflict, missing_product, expired_campaign, no_active_campaign, outside_duration, position_out_of_frame, too_short, competing_products, too_many_products' }),
    severity: Type.Union([Type.Literal('error'), Type.Literal('warning'), Type.Literal('info')]),
    placement_ids: Type.Array(Uuid),
    time_range: Type.Object({ start_time: Seconds, end_time: Seconds }),
    message: Type.String(),
  },
  { additionalProperties: false },
);

export const ValidationRunJson = Type.Object(
  {
    id: Uuid,
    video_id: Uuid,
    status: Type.Union([Type.Literal('pending'), Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]),
    created_at: Timestamp,
    started_at: Nullable(Timestamp),
    completed_at: Nullable(Timestamp),
    issues: Type.Array(IssueJson),
    summary: Nullable(
      Type.Object(
        { total_placements: Type.Integer(), valid_placements: Type.Integer(), issues_count: Type.Integer(), is_valid: Type.Boolean() },
        { additionalProperties: false },
      ),
    ),
    failure_reason: Nullable(Type.String()),
  },
  { additionalProperties: false },
);

export function runJson(run: ValidationRun) {
  return {
    id: run.id,
    video_id: run.videoId,
    status: run.status,
    created_at: run.createdAt.toISOString(),
    started_at: run.startedAt?.toISOString() ?? null,
    completed_at: run.completedAt?.toISOString() ?? null,
    issues: run.issues,
    summary: run.summary,
    failure_reason: run.failureReason,
  };
}
