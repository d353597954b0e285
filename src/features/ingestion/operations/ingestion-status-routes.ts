/** `GET /v1/admin/ingestion`: the matcher's lag, the dedup window and the raw partitions. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import type { Database } from '../../../platform/db/schema.js';
import { isAdmin } from '../../../platform/auth/actor.js';
import { actorOf } from '../../../platform/http/authenticate.js';
import { DomainError } from '../../../platform/errors.js';
import { problems } from '../shared/ingestion-http.js';
import { dedupRetentionDays } from '../events/event-rules.js';
import type { GroupCommit } from '../events/group-commit.js';
import { countDedupIds, listPartitions, matcherLag } from './ingestion-status-repository.js';
import { MATCHER } from '../matching/campaign-matcher.js';

export interface StatusDeps {
  db: Kysely<Database>;
  groupCommit: GroupCommit;
  windowDays: number;
  rawRetentionDays: number;
}

export const ingestionStatusRoutes: FastifyPluginAsyncTypebox<StatusDeps> = async (app, deps) => {
  app.get(
    '/v1/admin/ingestion',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['admin'], security: [{ bearerAuth: [] }], summary: 'Ingestion lag and retention (admin)',
        description:
          'Per consumer of accepted events: batches and events not applied yet and the age of the oldest (the ingestion lag, also ' +
          '`nedlia_ingestion_lag_seconds` on /metrics); the dedup window and ids held; the raw partitions kept; this process’s group commits.',
        response: {
          200: Type.Object({
            consumers: Type.Array(Type.Object({
              consumer: Type.String(), pending_batches: Type.Integer(), pending_events: Type.Integer(),
              oldest_unapplied_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]), lag_seconds: Type.Number(),
            })),
            dedup: Type.Object({ window_days: Type.Integer(), remembered_days: Type.Integer(), ids: Type.Integer() }),
            raw: Type.Object({ retention_days: Type.Integer(), partitions: Type.Array(Type.String()) }),
            group_commit: Type.Object({ commits: Type.Integer(), requests: Type.Integer(), events: Type.Integer() }),
          }),
          ...problems(401, 403, 429),
        },
      },
    },
    async (request) => {
      if (!isAdmin(actorOf(request))) throw new DomainError('forbidden', 'ACCESS.FORBIDDEN', 'your role may not read ingestion status (admins may)');
      const lag = await matcherLag(deps.db, MATCHER);
      return {
        consumers: [{
          consumer: lag.consumer, pending_batches: lag.pendingBatches, pending_events: lag.pendingEvents,
          oldest_unapplied_at: lag.oldestUnappliedAt?.toISOString() ?? null, lag_seconds: lag.lagSeconds,
        }],
        dedup: { window_days: deps.windowDays, remembered_days: dedupRetentionDays(deps.windowDays), ids: await countDedupIds(deps.db) },
        raw: { retention_days: deps.rawRetentionDays, partitions: (await listPartitions(deps.db)).map((p) => p.name) },
        group_commit: { ...deps.groupCommit.stats },
      };
    },
  );
};
