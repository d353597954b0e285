/** The admin routes: dead letters, the event log of an aggregate, the schema's migrations, backups. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FeatureContext } from '../../platform/http/feature-routes.js';
import { adminEventRoutes } from './admin-event-routes.js';
import { adminMigrationRoutes } from './admin-migration-routes.js';
import { adminBackupRoutes } from './admin-backup-routes.js';

export const operationsRoutes: FastifyPluginAsyncTypebox<FeatureContext> = async (app, { database, bus, config }) => {
  await app.register(adminEventRoutes, { db: database.db, ...(bus ? { bus } : {}) });
  await app.register(adminMigrationRoutes, { db: database.db });
  await app.register(adminBackupRoutes, { database, dataDir: config.dataDir });
};
