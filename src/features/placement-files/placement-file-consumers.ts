/**
 * The placement-file generator: a consumer of every catalog change that can alter what
 * a video shows (placements, videos, products, advertisers, campaigns, a campaign's
 * budget running out) and of its own `placement_file.requested`. A change of one video
 * is handled at once (one hop from the change to the new file); a change touching
 * several videos (a product's, a campaign's) becomes one request event per video, so
 * that no single transaction writes many files. See placement-file-use-cases.ts for
 * why the newest state always wins and how bursts coalesce.
 *
 * The generator writes through the object storage port. The service's processes use
 * the storage their configuration selects (`STORAGE`, `DATA_DIR`, `S3_*`), opened on
 * first use; `placementFileConsumersWith` gives it another (tests, benches).
 */
import { loadConfig } from '../../platform/config/config.js';
import type { Consumer } from '../../platform/consumers/consumer.js';
import { createObjectStorage } from '../../platform/storage/create-storage.js';
import type { ObjectStorage } from '../../platform/storage/object-storage.js';
import { PlacementFileEventTypes } from './placement-file-events.js';
import { CHANGE_TYPES, affectedVideos, fanOut, generateFile } from './placement-file-use-cases.js';

export function placementFileGenerator(storage: () => ObjectStorage): Consumer {
  return {
    name: 'placement-file-generator',
    types: [...CHANGE_TYPES, PlacementFileEventTypes.placementFileRequested],
    maxAttempts: 8,
    // Writers of one video wait for each other's row lock, each holding a connection: few at a time per process.
    concurrency: 2,
    async handle(event, tx, { emit, logger }) {
      const videos = event.type === PlacementFileEventTypes.placementFileRequested ? [(event.data as { video_id: string }).video_id] : await affectedVideos(tx, event);
      if (videos.length !== 1) return fanOut(videos, emit);
      const outcome = await generateFile(tx, storage(), videos[0]!, emit);
      logger.debug({ video_id: videos[0], outcome }, 'placement file handled');
    },
  };
}

let configured: ObjectStorage | undefined;
const configuredStorage = (): ObjectStorage => (configured ??= createObjectStorage(loadConfig()));

export function placementFileConsumersWith(storage: () => ObjectStorage): Consumer[] {
  return [placementFileGenerator(storage)];
}

export const placementFileConsumers: readonly Consumer[] = placementFileConsumersWith(configuredStorage);
