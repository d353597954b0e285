/**
 * Plugin sync: the change feed of videos, placements and products in commit order
 * (`GET /v1/sync`), and snapshots written by the sync worker (`POST /v1/sync-requests`).
 * What other folders may use of it is exported here and only here.
 */
import type { Consumer } from '../../platform/consumers/consumer.js';
import type { EventTypeSet } from '../../platform/events/registry.js';
import type { FeatureRoutes } from '../../platform/http/feature-routes.js';
import type { BackgroundWorker } from '../../platform/workers/background-worker.js';
import { createObjectStorage } from '../../platform/storage/create-storage.js';
import { syncEventDefinitions } from './sync-events.js';
import { syncRoutes } from './sync-routes.js';
import { SyncWorker } from './sync-worker.js';

export const syncHttp: FeatureRoutes = {
  name: 'sync',
  routes: syncRoutes,
  tags: [{ name: 'sync', description: 'The editor plugin’s change feed and snapshots' }],
};

/** The sync worker claims requests from its table (no bus consumer). */
export const syncConsumers: readonly Consumer[] = [];

export const syncEvents: EventTypeSet = { definitions: syncEventDefinitions };

const syncWorker: BackgroundWorker = {
  name: 'sync-worker',
  async start({ config, database, logger }) {
    const storage = createObjectStorage(config);
    const worker = new SyncWorker({ db: database.db, storage, logger: logger.child({ worker: 'sync-worker' }) });
    worker.start();
    return {
      async stop() {
        await worker.stop();
        storage.close();
      },
    };
  },
};

export const syncWorkers: readonly BackgroundWorker[] = [syncWorker];

export { SyncWorker, type SyncWorkerOptions } from './sync-worker.js';
export { SyncEventTypes } from './sync-events.js';
