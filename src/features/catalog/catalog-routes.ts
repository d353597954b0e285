/**
 * The catalog resources under /v1: advertisers, campaigns, products, videos, placements,
 * and the read cache of placements that GET /v1/placements/{id} is served from.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FeatureContext } from '../../platform/http/feature-routes.js';
import { advertiserRoutes } from './advertisers/advertiser-routes.js';
import { campaignRoutes } from './campaigns/campaign-routes.js';
import { openReadCaches } from './placements/placement-cache.js';
import { placementRoutes } from './placements/placement-routes.js';
import { productRoutes } from './products/product-routes.js';
import { videoRoutes } from './videos/video-routes.js';

export const catalogRoutes: FastifyPluginAsyncTypebox<FeatureContext> = async (app, { config, database, logger, metrics }) => {
  const readCaches = await openReadCaches(database, { size: config.readCacheSize, logger });
  app.addHook('onClose', () => readCaches.close());
  metrics?.watch({ readCaches: () => readCaches.gauges() });
  const deps = { db: database.db, ...(readCaches.placements ? { placementCache: readCaches.placements } : {}) };
  for (const routes of [advertiserRoutes, campaignRoutes, productRoutes, videoRoutes, placementRoutes]) {
    await app.register(routes, deps);
  }
};
