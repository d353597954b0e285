/**
 * The analysis feature's event types: a creator asked for a URL to be analysed, and the
 * analyser finished (completed or failed, with the reason). Add a version (never change
 * one in place) for a breaking change.
 */
import { Type, type TSchema } from 'typebox';
import type { EventDefinition } from '../../platform/events/registry.js';

const Uuid = Type.String({ format: 'uuid' });
const Seconds = Type.Number({ minimum: 0 });

export const AnalysisEventTypes = {
  videoAnalysisRequested: 'com.nedlia.video.analysis_requested',
  videoAnalysisCompleted: 'com.nedlia.video.analysis_completed',
} as const;

export const analysisEventDefinitions: EventDefinition[] = [];
const define = <S extends TSchema>(definition: EventDefinition<S>): void => void analysisEventDefinitions.push(definition);

define({
  type: AnalysisEventTypes.videoAnalysisRequested, version: 1, producer: 'api', description: 'Analysis of a video URL was requested',
  schema: Type.Object({ video_id: Uuid, url: Type.String(), requested_by: Type.Optional(Type.String()) }),
});
define({
  type: AnalysisEventTypes.videoAnalysisCompleted, version: 1, producer: 'video-analyser', description: 'Analysis of a video finished or failed',
  schema: Type.Object({
    video_id: Uuid, status: Type.Union([Type.Literal('completed'), Type.Literal('failed')]),
    duration: Type.Optional(Seconds), failure_reason: Type.Optional(Type.String()),
  }),
});
