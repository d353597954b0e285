/** `/v1/placements`: creators manage placements on their videos; advertisers read those of their products. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CatalogDeps } from '../shared/access.js';
import * as placements from './placement-use-cases.js';
import type { Placement as PlacementRow } from './placement-rules.js';
import { actorOf } from '../../../platform/http/authenticate.js';
import {
  IdParams, IdempotencyHeaders, IfMatchHeaders, ListOf, PageQuery, Uuid, Conventions, commandOf, expectedVersion, pageJson, problems, rejectNulCharacters, sendSerialized, setEtag,
} from '../shared/catalog-http.js';
import { NewPlacement, Placement, PlacementPatchBody, PlacementStatusQuery, placementJson } from './placement-schemas.js';

const tags = ['placements'];
/** GET bodies by placement object, made with the route's own response serializer. */
const serializedBodies = new WeakMap<PlacementRow, string>();
const security = [{ bearerAuth: [] }];

export const placementRoutes: FastifyPluginAsyncTypebox<CatalogDeps> = async (app, deps) => {
  app.get(
    '/v1/placements',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'List the placements you may see',
        description: `Placements you may see (a creator those on its videos, an advertiser those of its products), by \`status\`, \`video_id\` or \`product_id\` if given. ${Conventions.list}`,
        querystring: Type.Object(
          { ...PageQuery, status: PlacementStatusQuery, video_id: Type.Optional(Uuid), product_id: Type.Optional(Uuid) },
          { additionalProperties: false },
        ),
        response: { 200: ListOf(Placement), ...problems(400, 401, 403, 422, 429) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return pageJson(await placements.listPlacements(deps, actorOf(request), filter, { limit, cursor }), placementJson);
    },
  );

  app.get(
    '/v1/placements/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Read a placement',
        description: `One placement: product, time range and on-screen position. ${Conventions.read}`,
        params: IdParams, response: { 200: Placement, ...problems(400, 401, 404, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await placements.getPlacement(deps, actorOf(request), request.params.id);
      setEtag(reply, row.version);
      // A cached placement is the same frozen object on every hit: serialize it once.
      let body = serializedBodies.get(row);
      if (body === undefined) {
        body = reply.serialize(placementJson(row)) as string;
        serializedBodies.set(row, body);
      }
      return sendSerialized(reply, body);
    },
  );

  app.post(
    '/v1/placements',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Create a placement (creator, admin): seconds, or timecodes + fps',
        description: `Places a product in one of your videos over a time range: \`start_time\` and \`end_time\` in seconds, or the editor's \`timecode_in\`/\`timecode_out\` with \`fps\`. ${Conventions.create}`, headers: IdempotencyHeaders, body: NewPlacement,
        response: { 201: Placement, ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await placements.createPlacement(commandOf(deps, request), request.body);
      setEtag(reply, row.version);
      reply.header('location', `/v1/placements/${row.id}`);
      return reply.code(201).send(placementJson(row));
    },
  );

  app.patch(
    '/v1/placements/:id',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Change a placement',
        description: `Moves a placement in time or on screen, changes its product, description or status. ${Conventions.change}`, params: IdParams, headers: IfMatchHeaders, body: PlacementPatchBody,
        response: { 200: Placement, ...problems(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      const row = await placements.updatePlacement(commandOf(deps, request), request.params.id, version, request.body);
      setEtag(reply, row.version);
      return placementJson(row);
    },
  );

  app.delete(
    '/v1/placements/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Delete a placement (soft delete)',
        description: `Removes a placement from its video. ${Conventions.remove}`, params: IdParams, headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(400, 401, 403, 404, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      await placements.deletePlacement(commandOf(deps, request), request.params.id, version);
      return reply.code(204).send(null);
    },
  );
};
