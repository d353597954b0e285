/** `GET /v1/campaigns/{id}/stats`: from the projection the matcher keeps. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import type { Database } from '../../../platform/db/schema.js';
import { actorOf } from '../../../platform/http/authenticate.js';
import { EXPECTED } from '../../../platform/http/validation.js';
import { IdParams, problems } from '../shared/ingestion-http.js';
import { getCampaignStats } from './stats-use-cases.js';
import { StatsJson, statsJson } from './stats-schemas.js';

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', [EXPECTED]: 'a date such as "2026-06-01"' });

export const statsRoutes: FastifyPluginAsyncTypebox<{ db: Kysely<Database> }> = async (app, deps) => {
  app.get(
    '/v1/campaigns/:id/stats',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['campaigns'], security: [{ bearerAuth: [] }], summary: 'Read a campaign’s statistics',
        description:
          'Impressions, clicks and exact spend (up to 7 decimals) of a campaign, with a series per day in the advertiser’s time zone ' +
          '(`from`, `to` to narrow it). Kept by the matcher in the transaction that moves the spend, so they always agree with `spent`; ' +
          'events are applied asynchronously, `GET /v1/admin/ingestion` shows the lag. 404 also for a campaign you may not see.',
        params: IdParams,
        querystring: Type.Object({ from: Type.Optional(Day), to: Type.Optional(Day) }, { additionalProperties: false }),
        response: { 200: StatsJson, ...problems(400, 401, 404, 422, 429) },
      },
    },
    async (request) => statsJson(await getCampaignStats(deps, actorOf(request), request.params.id, request.query)),
  );
};
