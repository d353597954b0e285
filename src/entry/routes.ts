/** Every feature's routes, in the order they are registered (and their tags shown in /docs). */
import type { FeatureRoutes } from '../platform/http/feature-routes.js';
import { catalogHttp } from '../features/catalog/index.js';
import { operationsHttp } from '../features/operations/index.js';
import { analysisHttp } from '../features/analysis/index.js';
import { ingestionHttp } from '../features/ingestion/index.js';
import { notificationsHttp } from '../features/notifications/index.js';
import { placementFilesHttp } from '../features/placement-files/index.js';
import { syncHttp } from '../features/sync/index.js';
import { validationHttp } from '../features/validation/index.js';
import './event-types.js';

export const featureRoutes: readonly FeatureRoutes[] = [
  catalogHttp,
  validationHttp,
  placementFilesHttp,
  notificationsHttp,
  syncHttp,
  analysisHttp,
  operationsHttp,
  ingestionHttp,
];
