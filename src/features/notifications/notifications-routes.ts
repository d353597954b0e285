/** The notifications feature's routes: notifications and webhooks. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FeatureContext } from '../../platform/http/feature-routes.js';
import { notificationRoutes } from './notifications/notification-routes.js';
import { webhookRoutes } from './webhooks/webhook-routes.js';

export const notificationsRoutes: FastifyPluginAsyncTypebox<FeatureContext> = async (app, { config, database }) => {
  await app.register(notificationRoutes, { db: database.db });
  await app.register(webhookRoutes, { db: database.db, httpsOnly: config.nodeEnv === 'production' });
};
