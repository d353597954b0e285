/** `/v1/campaigns`: an advertiser manages its own campaigns; admins manage all. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CatalogDeps } from '../shared/access.js';
import * as campaigns from './campaign-use-cases.js';
import { actorOf } from '../../../platform/http/authenticate.js';
import {
  IdParams, IdempotencyHeaders, IfMatchHeaders, ListOf, PageQuery, Uuid, Conventions, commandOf, expectedVersion, pageJson, problems, rejectNulCharacters, setEtag,
} from '../shared/catalog-http.js';
import { Campaign, CampaignPatchBody, CampaignStatusQuery, NewCampaign, campaignJson } from './campaign-schemas.js';

const tags = ['campaigns'];
const security = [{ bearerAuth: [] }];

export const campaignRoutes: FastifyPluginAsyncTypebox<CatalogDeps> = async (app, deps) => {
  app.get(
    '/v1/campaigns',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'List campaigns (an advertiser sees its own)',
        description: `Campaigns you may see (an admin all, an advertiser its own), by \`status\`, \`advertiser_id\` or \`product_id\` if given. ${Conventions.list}`,
        querystring: Type.Object(
          { ...PageQuery, status: CampaignStatusQuery, advertiser_id: Type.Optional(Uuid), product_id: Type.Optional(Uuid) },
          { additionalProperties: false },
        ),
        response: { 200: ListOf(Campaign), ...problems(400, 401, 403, 422, 429) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return pageJson(await campaigns.listCampaigns(deps, actorOf(request), filter, { limit, cursor }), campaignJson);
    },
  );

  app.get(
    '/v1/campaigns/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Read a campaign',
        description: `One campaign with its budget, spend, pricing and products. ${Conventions.read}`,
        params: IdParams, response: { 200: Campaign, ...problems(400, 401, 404, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await campaigns.getCampaign(deps, actorOf(request), request.params.id);
      setEtag(reply, row.row.version);
      return campaignJson(row);
    },
  );

  app.post(
    '/v1/campaigns',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Create a campaign (advertiser, admin)',
        description: `Starts a campaign for an advertiser's own products; \`end_date\` after \`start_date\`, money as decimal strings, an active campaign needs a product. ${Conventions.create}`, headers: IdempotencyHeaders, body: NewCampaign,
        response: { 201: Campaign, ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await campaigns.createCampaign(commandOf(deps, request), request.body);
      setEtag(reply, row.row.version);
      reply.header('location', `/v1/campaigns/${row.row.id}`);
      return reply.code(201).send(campaignJson(row));
    },
  );

  app.patch(
    '/v1/campaigns/:id',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Change a campaign',
        description: `Changes a campaign's dates, budget (never below \`spent\`: 409), pricing, status or products. ${Conventions.change}`, params: IdParams, headers: IfMatchHeaders, body: CampaignPatchBody,
        response: { 200: Campaign, ...problems(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      const row = await campaigns.updateCampaign(commandOf(deps, request), request.params.id, version, request.body);
      setEtag(reply, row.row.version);
      return campaignJson(row);
    },
  );

  app.delete(
    '/v1/campaigns/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Delete a campaign (soft delete)',
        description: `Removes a campaign; it stops serving. ${Conventions.remove}`, params: IdParams, headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(400, 401, 403, 404, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      await campaigns.deleteCampaign(commandOf(deps, request), request.params.id, version);
      return reply.code(204).send(null);
    },
  );
};
