/** `/v1/sync` and `/v1/sync-requests`: the editor plugin's change feed and snapshots. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FeatureContext } from '../../platform/http/feature-routes.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { createObjectStorage } from '../../platform/storage/create-storage.js';
import { IdParams, commandOf, problems } from '../catalog/index.js';
import * as sync from './sync-use-cases.js';
import { NewSyncRequest, SyncFeed, SyncQuery, SyncRequest, syncFeedJson, syncRequestJson } from './sync-schemas.js';
import { Type } from 'typebox';

const tags = ['sync'];
const security = [{ bearerAuth: [] }];
const scope = 'A creator syncs its own videos, the placements on them and the products of active advertisers; an admin everything; an advertiser nothing (403).';

export const syncRoutes: FastifyPluginAsyncTypebox<FeatureContext> = async (app, { config, database }) => {
  const storage = createObjectStorage(config);
  app.addHook('onClose', () => storage.close());
  const deps = { db: database.db };

  app.get(
    '/v1/sync',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Changes since your cursor, in commit order',
        description:
          'Every change you may see after `cursor` (from the beginning without one), in the order the changes committed, each with the row after it, or `deleted: true`. ' +
          'Keep `next_cursor` (it survives restarts) and send it back; while `has_more` is true read again at once, else poll. ' +
          `No change is ever skipped, also while others write: a change still being committed is waited for. ${scope}`,
        querystring: SyncQuery,
        response: { 200: SyncFeed, ...problems(400, 401, 403, 422, 429) },
      },
    },
    async (request) => syncFeedJson(await sync.readSyncFeed(deps, actorOf(request), request.query.cursor, request.query.limit)),
  );

  app.post(
    '/v1/sync-requests',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Ask for a snapshot of everything you may sync',
        description:
          'Answers 202 with `Location` of the request and emits `plugin.sync_requested`; the sync worker writes the snapshot to storage and emits ' +
          '`plugin.sync_completed`. Poll the request until `completed`, GET its `snapshot_url`, then follow GET /v1/sync from its `cursor`. ' + scope,
        body: Type.Optional(NewSyncRequest),
        response: { 202: SyncRequest, ...problems(400, 401, 403, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const created = await sync.requestSync(commandOf(deps, request));
      reply.header('location', `/v1/sync-requests/${created.id}`);
      return reply.code(202).send(syncRequestJson(created));
    },
  );

  app.get(
    '/v1/sync-requests/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Read a sync request',
        description: `Its status and, once completed, where to fetch the snapshot and the cursor to follow the feed from. Your own requests only (404 for another’s). ${scope}`,
        params: IdParams, response: { 200: SyncRequest, ...problems(400, 401, 403, 404, 422, 429) },
      },
    },
    async (request) => syncRequestJson(await sync.getSyncRequest(deps, actorOf(request), request.params.id)),
  );

  app.get(
    '/v1/sync-requests/:id/snapshot',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Download a sync snapshot',
        description: `The snapshot as JSON: \`{sync_request_id, cursor, generated_at, items: [{type, id, version, data}]}\`. 409 until the request is completed. ${scope}`,
        params: IdParams,
        response: {
          200: { description: 'The snapshot (application/json)', content: { 'application/json': { schema: Type.Unknown() } } },
          ...problems(400, 401, 403, 404, 409, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const object = await sync.openSnapshot({ ...deps, storage }, actorOf(request), request.params.id);
      return reply.type('application/json').header('content-length', object.size).send(object.body);
    },
  );
};
