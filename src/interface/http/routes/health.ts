import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import type { DatabaseHandle } from '../../../infrastructure/db/connect.js';
import { PROBLEM_CONTENT_TYPE, problem } from '../problem.js';

const Status = Type.Object({ status: Type.Literal('ok'), checks: Type.Optional(Type.Record(Type.String(), Type.String())) });

export interface HealthOptions {
  database: DatabaseHandle;
  /** Further readiness checks (e.g. the event bus); each throws when not ready. */
  checks?: Record<string, () => Promise<void>>;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, { database, checks = {} }) => {
  app.get(
    '/health/live',
    { schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Status } }, logLevel: 'warn' },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'The service can take traffic (database and bus answer)',
        response: { 200: Status, 503: { $ref: 'Problem#' } },
      },
      logLevel: 'warn',
    },
    async (request, reply) => {
      const all: Record<string, () => Promise<void>> = {
        database: async () => {
          await sql`select 1`.execute(database.db);
        },
        ...checks,
      };
      const results: Record<string, string> = {};
      const failed: string[] = [];
      for (const [name, check] of Object.entries(all)) {
        try {
          await check();
          results[name] = 'ok';
        } catch (error) {
          request.log.warn({ err: error, check: name }, 'readiness check failed');
          failed.push(name);
        }
      }
      if (failed.length > 0) {
        return reply
          .code(503)
          .type(PROBLEM_CONTENT_TYPE)
          .send(problem(503, `not ready: ${failed.join(', ')} did not answer`, request.url, { code: 'SERVICE.NOT_READY' }));
      }
      return { status: 'ok' as const, checks: results };
    },
  );
};
