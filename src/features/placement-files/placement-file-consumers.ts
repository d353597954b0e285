/**
 * The two consumers of placement files (see placement-file-use-cases.ts for the
 * coalescing):
 * - `placement-file-requester`: on every catalog change that can alter what a video
 *   shows, counts a request for each touched video, emitting `placement_file.requested`
 *   when none is outstanding;
 * - `placement-file-generator`: on `placement_file.requested`, writes the video's file
 *   (or removes a deleted video's).
 *
 * The generator writes through the object storage port. The service's processes use
 * the storage their configuration selects (`STORAGE`, `DATA_DIR`, `S3_*`), opened on
 * first use; `placementFileConsumersWith` gives it another (tests).
 */
import { loadConfig } from '../../platform/config/config.js';
import type { Consumer } from '../../platform/consumers/consumer.js';
import { createObjectStorage } from '../../platform/storage/create-storage.js';
import type { ObjectStorage } from '../../platform/storage/object-storage.js';
import { PlacementFileEventTypes } from './placement-file-events.js';
import { CHANGE_TYPES, affectedVideos, generateFile, requestFiles } from './placement-file-use-cases.js';

export const placementFileRequester: Consumer = {
  name: 'placement-file-requester',
  types: CHANGE_TYPES,
  maxAttempts: 8,
  async handle(event, tx, { emit, logger }) {
    const videos = await affectedVideos(tx, event);
    const asked = await requestFiles(tx, videos, emit);
    logger.debug({ videos: videos.length, asked }, 'placement files requested');
  },
};

export function placementFileGenerator(storage: () => ObjectStorage): Consumer {
  return {
    name: 'placement-file-generator',
    types: [PlacementFileEventTypes.placementFileRequested],
    maxAttempts: 8,
    async handle(event, tx, { emit, logger }) {
      const videoId = (event.data as { video_id: string }).video_id;
      const outcome = await generateFile(tx, storage(), videoId, emit);
      logger.debug({ video_id: videoId, outcome }, 'placement file handled');
    },
  };
}

let configured: ObjectStorage | undefined;
const configuredStorage = (): ObjectStorage => (configured ??= createObjectStorage(loadConfig()));

export function placementFileConsumersWith(storage: () => ObjectStorage): Consumer[] {
  return [placementFileRequester, placementFileGenerator(storage)];
}

export const placementFileConsumers: readonly Consumer[] = placementFileConsumersWith(configuredStorage);
