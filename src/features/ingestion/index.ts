/**
 * Event ingestion and campaign spend: `POST /v1/events` (the video SDK's impressions,
 * clicks and views: validated, deduplicated, stored durably with group commit), ingest
 * keys, the campaign matcher consumer (exact, guarded spend; budget, daily and frequency
 * caps), campaign statistics from its projection, and the ingestion lag. What other
 * folders may use of it is exported here and only here.
 */
import type { Consumer } from '../../platform/consumers/consumer.js';
import type { EventTypeSet } from '../../platform/events/registry.js';
import type { FeatureRoutes } from '../../platform/http/feature-routes.js';
import type { BackgroundWorker } from '../../platform/workers/background-worker.js';
import { ingestionConstraints } from './ingestion-constraints.js';
import { ingestionEventDefinitions, ingestionUpcasters } from './ingestion-events.js';
import { ingestionRoutes } from './ingestion-routes.js';
import { campaignMatcher } from './matching/campaign-matcher.js';
import { startIngestionMaintenance } from './operations/ingestion-maintenance.js';

export const ingestionHttp: FeatureRoutes = {
  name: 'ingestion',
  routes: ingestionRoutes,
  tags: [{ name: 'ingestion', description: 'Playback events from the video SDK and the ingest keys that admit them' }],
  constraints: ingestionConstraints,
};

export const ingestionConsumers: readonly Consumer[] = [campaignMatcher];

/**
 * Ingestion's housekeeping in worker processes (API processes run it in their routes):
 * the raw tables' partitions ahead of time, retention, the dedup window's purge.
 */
export const ingestionWorkers: readonly BackgroundWorker[] = [
  {
    name: 'ingestion-maintenance',
    start: ({ config, database, logger }) => startIngestionMaintenance(database.db, config.ingestion, logger.child({ worker: 'ingestion-maintenance' })),
  },
];

export const ingestionEvents: EventTypeSet = { definitions: ingestionEventDefinitions, upcasters: ingestionUpcasters };

export { PlaybackEventTypes } from './ingestion-events.js';
export { ingestionArchivePolicies } from './operations/ingestion-maintenance.js';
