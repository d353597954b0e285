/** Every feature's routes, in the order they are registered (and their tags shown in /docs). */
import type { FeatureRoutes } from '../platform/http/feature-routes.js';
import { catalogHttp } from '../features/catalog/index.js';
import { operationsHttp } from '../features/operations/index.js';
import { notificationsHttp } from '../features/notifications/index.js';
import { syncHttp } from '../features/sync/index.js';
import './event-types.js';

export const featureRoutes: readonly FeatureRoutes[] = [catalogHttp, notificationsHttp, syncHttp, operationsHttp];
