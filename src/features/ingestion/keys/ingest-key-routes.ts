/** `/v1/ingest-keys`: a creator's publishable keys for the SDK (admins: anyone's). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../../platform/http/authenticate.js';
import { IdParams, problems } from '../shared/ingestion-http.js';
import { createIngestKey, listIngestKeys, revokeIngestKey, type KeyDeps } from './ingest-key-use-cases.js';
import { CreatedIngestKeyJson, IngestKeyJson, NewIngestKey, createdKeyJson, keyJson } from './ingest-key-schemas.js';

const tags = ['ingestion'];
const security = [{ bearerAuth: [] }];

export const ingestKeyRoutes: FastifyPluginAsyncTypebox<KeyDeps> = async (app, deps) => {
  app.post(
    '/v1/ingest-keys',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Create an ingest key (creator, admin)',
        description: 'Makes a publishable key for the video SDK, which admits events for your own videos only. The key is in this answer only: it is stored as a hash and cannot be shown again.',
        body: NewIngestKey,
        response: { 201: CreatedIngestKeyJson, ...problems(400, 401, 403, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const key = await createIngestKey(deps, actorOf(request), request.body ?? {});
      reply.header('location', `/v1/ingest-keys/${key.id}`);
      return reply.code(201).send(createdKeyJson(key));
    },
  );

  app.get(
    '/v1/ingest-keys',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'List ingest keys',
        description: 'Your ingest keys (an admin sees all), revoked ones included, without the keys themselves. One page at a time, oldest first: send `next_cursor` back as `cursor` until it is null.',
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }), cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(IngestKeyJson), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...problems(400, 401, 403, 422, 429) },
      },
    },
    async (request) => {
      const page = await listIngestKeys(deps, actorOf(request), { limit: request.query.limit, ...(request.query.cursor ? { cursor: request.query.cursor } : {}) });
      return { items: page.items.map(keyJson), next_cursor: page.nextCursor };
    },
  );

  app.delete(
    '/v1/ingest-keys/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Revoke an ingest key',
        description: 'Revokes a key: events sent with it are refused with 401 from now on (by every API process within 5 s). Revoking twice is harmless. 404 also for a key you may not see.',
        params: IdParams,
        response: { 200: IngestKeyJson, ...problems(400, 401, 403, 404, 422, 429) },
      },
    },
    async (request) => keyJson(await revokeIngestKey(deps, actorOf(request), request.params.id)),
  );
};
