/**
 * The validator: a consumer of `video.validation_requested` that moves the run
 * pending → running (emitting `video.validation_started`, so the running state is
 * committed and visible to a poll), then on `video.validation_started` checks the
 * video's placements and moves it to completed (emitting `video.validation_completed`
 * with `is_valid` and `issues_count`) or failed. Both steps are conditional on the
 * run's status, so a duplicate or replayed event changes nothing.
 */
import type { Consumer } from '../../platform/consumers/consumer.js';
import type { ValidationOptions } from './validation-model.js';
import { ValidationEventTypes } from './validation-events.js';
import { failRun, finishRun, startRun } from './validation-use-cases.js';

const MAX_ATTEMPTS = 5;

interface RunData {
  video_id: string;
  validation_run_id: string;
  options: ValidationOptions;
}

export const videoValidator: Consumer = {
  name: 'video-validator',
  types: [ValidationEventTypes.videoValidationRequested, ValidationEventTypes.videoValidationStarted],
  maxAttempts: MAX_ATTEMPTS,
  async handle(event, tx, { emit, attempt, logger }) {
    const data = event.data as RunData;
    if (event.type === ValidationEventTypes.videoValidationRequested) return startRun(tx, data, emit);
    try {
      await finishRun(tx, data, emit);
    } catch (error) {
      if (attempt < MAX_ATTEMPTS) throw error;
      // The last attempt: record why (if the transaction still can) rather than leave the run running.
      logger.error({ err: error, validation_run_id: data.validation_run_id }, 'validation failed on its last attempt');
      await failRun(tx, data.validation_run_id, 'the validator could not check the video; request a new validation');
    }
  },
};
