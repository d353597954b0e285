/**
 * Every feature's event types. Importing this module installs them into the process's
 * registry (platform/events/registry.ts), which the outbox checks appended events
 * against and consumers check and upcast deliveries with; every start of a process
 * imports it (through routes.ts and consumers.ts).
 */
import { eventRegistry, type EventTypeSet } from '../platform/events/registry.js';
import { catalogEvents } from '../features/catalog/index.js';
import { analysisEvents } from '../features/analysis/index.js';
import { ingestionEvents } from '../features/ingestion/index.js';
import { notificationEvents } from '../features/notifications/index.js';
import { placementFileEvents } from '../features/placement-files/index.js';
import { syncEvents } from '../features/sync/index.js';
import { validationEvents } from '../features/validation/index.js';

export const eventTypes: readonly EventTypeSet[] = [
  catalogEvents,
  validationEvents,
  placementFileEvents,
  notificationEvents,
  syncEvents,
  analysisEvents,
  ingestionEvents,
];

for (const set of eventTypes) eventRegistry.install(set);

export { eventRegistry };
