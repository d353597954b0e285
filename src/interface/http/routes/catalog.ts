/** The catalog resources under /v1: advertisers, campaigns, products, videos, placements. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CatalogDeps } from '../../../application/catalog/access.js';
import { advertiserRoutes } from './advertisers.js';
import { campaignRoutes } from './campaigns.js';
import { placementRoutes } from './placements.js';
import { productRoutes } from './products.js';
import { videoRoutes } from './videos.js';

export const catalogRoutes: FastifyPluginAsyncTypebox<CatalogDeps> = async (app, deps) => {
  for (const routes of [advertiserRoutes, campaignRoutes, productRoutes, videoRoutes, placementRoutes]) {
    await app.register(routes, deps);
  }
};
