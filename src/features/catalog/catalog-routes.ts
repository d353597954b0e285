/** The catalog resources under /v1: advertisers, campaigns, products, videos, placements. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CatalogDeps } from './shared/access.js';
import { advertiserRoutes } from './advertisers/advertiser-routes.js';
import { campaignRoutes } from './campaigns/campaign-routes.js';
import { placementRoutes } from './placements/placement-routes.js';
import { productRoutes } from './products/product-routes.js';
import { videoRoutes } from './videos/video-routes.js';

export const catalogRoutes: FastifyPluginAsyncTypebox<CatalogDeps> = async (app, deps) => {
  for (const routes of [advertiserRoutes, campaignRoutes, productRoutes, videoRoutes, placementRoutes]) {
    await app.register(routes, deps);
  }
};
