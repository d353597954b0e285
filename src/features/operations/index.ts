/**
 * Operations: what an administrator does with the event side (dead letters: list, show,
 * replay, discard; the event log of an aggregate) and the schema (migration status).
 * What other folders may use of it is exported here and only here.
 */
import type { FeatureRoutes } from '../../platform/http/feature-routes.js';
import { operationsRoutes } from './operations-routes.js';

export const operationsHttp: FeatureRoutes = {
  name: 'operations',
  routes: operationsRoutes,
  tags: [{ name: 'admin', description: 'Dead letters and the event log (admin role)' }],
};

export { discardDeadLetter, getDeadLetter, listDeadLetters, replayDeadLetter } from './dead-letter-use-cases.js';
