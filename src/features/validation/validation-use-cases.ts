/**
 * Validation use cases: request a run of a video (whoever manages the video: its
 * creator, an admin), read a run, and the validator's two steps (pick the run up, then
 * check the video and record the result).
 */
import { getVideo, transact, type CatalogCommand, type CatalogDeps } from '../catalog/index.js';
import { DomainError, notFound } from '../../platform/errors.js';
import { appendEvents } from '../../platform/events/event-log.js';
import type { Actor } from '../../platform/events/command-context.js';
import type { Executor } from '../../platform/db/schema.js';
import type { RowCache } from '../../platform/cache/row-cache.js';
import { DEFAULT_VALIDATION_OPTIONS, type ValidationOptions, type ValidationRun } from './validation-model.js';
import { ValidationEventTypes } from './validation-events.js';
import { findRun, insertRun, latestRuns, loadSnapshot, moveRun } from './validation-repository.js';
import { validatePlacements } from './validation-rules.js';
import type { NewEvent } from '../../platform/events/event-log.js';

export async function requestValidation(
  command: CatalogCommand,
  videoId: string,
  options: Partial<ValidationOptions> = {},
): Promise<ValidationRun> {
  const { context } = command;
  return transact(command.db, async (tx) => {
    await getVideo({ db: tx }, context.actor, videoId);
    const run = await insertRun(tx, videoId, context.actor.userId);
    await appendEvents(tx, context, [
      {
        type: ValidationEventTypes.videoValidationRequested,
        subject: videoId,
        data: {
          video_id: videoId, validation_run_id: run.id, requested_by: context.actor.userId,
          options: { ...DEFAULT_VALIDATION_OPTIONS, ...options },
        },
      },
    ]);
    return run;
  });
}

/**
 * A run is seen by whoever may see its video; NOT_FOUND otherwise (also when the video was deleted).
 * With `runs`, the run is read through the API's read cache (the video's access is checked each time).
 */
export async function getValidationRun(deps: CatalogDeps, actor: Actor, id: string, runs?: RowCache<ValidationRun>): Promise<ValidationRun> {
  const run = runs ? await runs.read(id, () => findRun(deps.db, id)) : await findRun(deps.db, id);
  if (!run) throw notFound('validation run', id);
  try {
    await getVideo(deps, actor, run.videoId);
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'not_found') throw notFound('validation run', id);
    throw error;
  }
  return run;
}

/** The latest runs of a video the actor may see, newest first. */
export async function listValidationRuns(deps: CatalogDeps, actor: Actor, videoId: string, limit: number): Promise<ValidationRun[]> {
  await getVideo(deps, actor, videoId);
  return latestRuns(deps.db, videoId, limit);
}

interface RunEvent {
  video_id: string;
  validation_run_id: string;
  options?: ValidationOptions;
}

type Emit = (events: readonly NewEvent[]) => Promise<unknown>;

/** Step 1: pending → running (committed on its own, so a poll sees it), then step 2 follows as an event. */
export async function startRun(tx: Executor, data: RunEvent, emit: Emit): Promise<void> {
  if (!(await moveRun(tx, data.validation_run_id, 'pending', { status: 'running' }))) return;
  await emit([
    {
      type: ValidationEventTypes.videoValidationStarted,
      subject: data.video_id,
      data: { video_id: data.video_id, validation_run_id: data.validation_run_id, options: data.options ?? DEFAULT_VALIDATION_OPTIONS },
    },
  ]);
}

/** Step 2: running → completed (with issues and summary) or failed (the video is gone). */
export async function finishRun(tx: Executor, data: Required<RunEvent>, emit: Emit, now: Date = new Date()): Promise<void> {
  const run = await findRun(tx, data.validation_run_id);
  if (!run || run.status !== 'running') return;
  const snapshot = await loadSnapshot(tx, data.video_id, now.toISOString().slice(0, 10));
  if (!snapshot) {
    await moveRun(tx, run.id, 'running', { status: 'failed', failureReason: 'the video was deleted before it could be checked' });
    return;
  }
  const { issues, summary } = validatePlacements(snapshot, data.options);
  await moveRun(tx, run.id, 'running', { status: 'completed', issues, summary });
  await emit([
    {
      type: ValidationEventTypes.videoValidationCompleted,
      subject: data.video_id,
      data: { video_id: data.video_id, validation_run_id: run.id, is_valid: summary.is_valid, issues_count: summary.issues_count },
    },
  ]);
}

/** The last attempt failed for a reason other than the video: the run says so instead of staying `running`. */
export async function failRun(tx: Executor, runId: string, reason: string): Promise<void> {
  await moveRun(tx, runId, 'running', { status: 'failed', failureReason: reason });
}
