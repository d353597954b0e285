/** `/v1/videos`: a creator manages the videos it owns; admins manage all. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CatalogDeps } from '../shared/access.js';
import { listPlacementsOfVideo } from '../placements/placement-use-cases.js';
import * as videos from './video-use-cases.js';
import { actorOf } from '../../../platform/http/authenticate.js';
import {
  IdParams, IdempotencyHeaders, IfMatchHeaders, ListOf, PageQuery, Uuid, Conventions, commandOf, expectedVersion, pageJson, problems, rejectNulCharacters, setEtag,
} from '../shared/catalog-http.js';
import { Placement, PlacementStatusQuery, placementJson } from '../placements/placement-schemas.js';
import { NewVideo, Video, VideoPatchBody, VideoStatusQuery, videoJson } from './video-schemas.js';

const tags = ['videos'];
const security = [{ bearerAuth: [] }];

export const videoRoutes: FastifyPluginAsyncTypebox<CatalogDeps> = async (app, deps) => {
  app.get(
    '/v1/videos',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'List videos (a creator sees its own)',
        description: `Videos you may see (an admin all, a creator its own), by \`status\` if given. ${Conventions.list}`,
        querystring: Type.Object({ ...PageQuery, status: VideoStatusQuery }, { additionalProperties: false }),
        response: { 200: ListOf(Video), ...problems(400, 401, 403, 422, 429) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return pageJson(await videos.listVideos(deps, actorOf(request), filter, { limit, cursor }), videoJson);
    },
  );

  app.get(
    '/v1/videos/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Read a video',
        description: `One video with its duration, source and analysis state. ${Conventions.read}`,
        params: IdParams, response: { 200: Video, ...problems(400, 401, 404, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await videos.getVideo(deps, actorOf(request), request.params.id);
      setEtag(reply, row.version);
      return videoJson(row);
    },
  );

  app.get(
    '/v1/videos/:id/placements',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['videos', 'placements'], security, summary: 'List the placements of a video',
        description: `The placements on one video, by \`status\` or \`product_id\` if given; 404 for a video you may not see. ${Conventions.list}`, params: IdParams,
        querystring: Type.Object({ ...PageQuery, status: PlacementStatusQuery, product_id: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 200: ListOf(Placement), ...problems(400, 401, 403, 404, 422, 429) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await listPlacementsOfVideo(deps, actorOf(request), request.params.id, filter, { limit, cursor });
      return pageJson(page, placementJson);
    },
  );

  app.post(
    '/v1/videos',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Register a video (creator, admin); the caller owns it',
        description: `Registers a video; the caller becomes its owner. \`duration\` is in seconds. ${Conventions.create}`, headers: IdempotencyHeaders, body: NewVideo,
        response: { 201: Video, ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await videos.createVideo(commandOf(deps, request), request.body);
      setEtag(reply, row.version);
      reply.header('location', `/v1/videos/${row.id}`);
      return reply.code(201).send(videoJson(row));
    },
  );

  app.patch(
    '/v1/videos/:id',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Change a video',
        description: `Changes a video's title, duration, source, status or metadata. ${Conventions.change}`, params: IdParams, headers: IfMatchHeaders, body: VideoPatchBody,
        response: { 200: Video, ...problems(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      const row = await videos.updateVideo(commandOf(deps, request), request.params.id, version, request.body);
      setEtag(reply, row.version);
      return videoJson(row);
    },
  );

  app.delete(
    '/v1/videos/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Delete a video (soft delete)',
        description: `Removes a video. ${Conventions.remove}`, params: IdParams, headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(400, 401, 403, 404, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      await videos.deleteVideo(commandOf(deps, request), request.params.id, version);
      return reply.code(204).send(null);
    },
  );
};
