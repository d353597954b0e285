/** `/v1/advertisers`: admins manage advertisers; an advertiser reads its own. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CatalogDeps } from '../shared/access.js';
import * as advertisers from './advertiser-use-cases.js';
import { actorOf } from '../../../platform/http/authenticate.js';
import {
  IdParams, IdempotencyHeaders, IfMatchHeaders, ListOf, PageQuery, Conventions, commandOf, expectedVersion, pageJson, problems, rejectNulCharacters, setEtag,
} from '../shared/catalog-http.js';
import { Advertiser, AdvertiserPatchBody, AdvertiserStatusQuery, NewAdvertiser, advertiserJson } from './advertiser-schemas.js';

const tags = ['advertisers'];
const security = [{ bearerAuth: [] }];

export const advertiserRoutes: FastifyPluginAsyncTypebox<CatalogDeps> = async (app, deps) => {
  app.get(
    '/v1/advertisers',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'List advertisers (an advertiser sees its own)',
        description: `Advertisers you may see (an admin all, an advertiser its own), by \`status\` if given. ${Conventions.list}`,
        querystring: Type.Object({ ...PageQuery, status: AdvertiserStatusQuery }, { additionalProperties: false }),
        response: { 200: ListOf(Advertiser), ...problems(400, 401, 403, 422, 429) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return pageJson(await advertisers.listAdvertisers(deps, actorOf(request), filter, { limit, cursor }), advertiserJson);
    },
  );

  app.get(
    '/v1/advertisers/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Read an advertiser',
        description: `One advertiser. ${Conventions.read}`,
        params: IdParams, response: { 200: Advertiser, ...problems(400, 401, 404, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await advertisers.getAdvertiser(deps, actorOf(request), request.params.id);
      setEtag(reply, row.version);
      return advertiserJson(row);
    },
  );

  app.post(
    '/v1/advertisers',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Create an advertiser (admin)',
        description: `Registers a company that runs campaigns; admins only. ${Conventions.create}`, headers: IdempotencyHeaders, body: NewAdvertiser,
        response: { 201: Advertiser, ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await advertisers.createAdvertiser(commandOf(deps, request), request.body);
      setEtag(reply, row.version);
      reply.header('location', `/v1/advertisers/${row.id}`);
      return reply.code(201).send(advertiserJson(row));
    },
  );

  app.patch(
    '/v1/advertisers/:id',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Change an advertiser (admin)',
        description: `Renames an advertiser, changes its contact or suspends it; admins only. ${Conventions.change}`, params: IdParams, headers: IfMatchHeaders, body: AdvertiserPatchBody,
        response: { 200: Advertiser, ...problems(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      const row = await advertisers.updateAdvertiser(commandOf(deps, request), request.params.id, version, request.body);
      setEtag(reply, row.version);
      return advertiserJson(row);
    },
  );

  app.delete(
    '/v1/advertisers/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Delete an advertiser (admin; soft delete)',
        description: `Removes an advertiser; admins only. ${Conventions.remove}`, params: IdParams, headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(400, 401, 403, 404, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      await advertisers.deleteAdvertiser(commandOf(deps, request), request.params.id, version);
      return reply.code(204).send(null);
    },
  );
};
