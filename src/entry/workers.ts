/** Every feature's background workers (platform/workers/background-worker.ts): worker and all-in-one processes run them all. */
import type { BackgroundWorker } from '../platform/workers/background-worker.js';
import { createArchiveWorker } from '../platform/archive/archive-worker.js';
import { notificationWorkers } from '../features/notifications/index.js';
import { syncWorkers } from '../features/sync/index.js';
import { ingestionWorkers } from '../features/ingestion/index.js';
import { archivePolicies } from './archive-policies.js';

export const allWorkers: readonly BackgroundWorker[] = [...notificationWorkers, ...syncWorkers, ...ingestionWorkers, createArchiveWorker(archivePolicies)];
