/**
 * `GET /v1/admin/migrations`: which schema migrations the database has, for admins.
 * `npm run cli -- migrate status` reads it when a running service holds the embedded
 * data directory.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import { isAdmin } from '../../platform/events/command-context.js';
import { DomainError } from '../../platform/errors.js';
import { migrations } from '../../platform/db/migrations/index.js';
import { migrationStatus } from '../../platform/db/migrator.js';
import type { Database } from '../../platform/db/schema.js';
import { actorOf } from '../../platform/http/authenticate.js';

const Problem = { $ref: 'Problem#' } as const;

export const MigrationList = Type.Object({
  items: Type.Array(
    Type.Object({
      name: Type.String(),
      applied_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'null while pending' }),
    }),
  ),
});

export const adminMigrationRoutes: FastifyPluginAsyncTypebox<{ db: Kysely<Database> }> = async (app, { db }) => {
  app.get(
    '/v1/admin/migrations',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['admin'],
        summary: 'Schema migrations, applied and pending',
        description: 'Every migration this version of the service knows, in order, with when it was applied. 401 without a valid token, 403 unless admin.',
        security: [{ bearerAuth: [] }],
        response: { 200: MigrationList, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      if (!isAdmin(actorOf(request))) throw new DomainError('forbidden', 'AUTH.FORBIDDEN', 'only an admin may read the schema status');
      const status = await migrationStatus(db, migrations);
      return { items: status.map((m) => ({ name: m.name, applied_at: m.executedAt ? m.executedAt.toISOString() : null })) };
    },
  );
};
