/** `POST /v1/videos/{id}/validations` (202 + Location) and `GET /v1/validation-runs/{id}` (the poll). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ReadCache } from '../../platform/cache/read-cache.js';
import { listenForRowChanges } from '../../platform/cache/row-change-listener.js';
import type { FeatureContext } from '../../platform/http/feature-routes.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { IdParams, IdempotencyHeaders, commandOf, problems } from '../catalog/index.js';
import { ValidationRequestBody, ValidationRunJson, runJson } from './validation-schemas.js';
import type { ValidationRun } from './validation-model.js';
import { getValidationRun, listValidationRuns, requestValidation } from './validation-use-cases.js';

const tags = ['validation'];
const security = [{ bearerAuth: [] }];

/** The longest a cached run is served, whatever happens to its invalidations. */
const RUN_CACHE_TTL_MS = 60_000;

export const validationRoutes: FastifyPluginAsyncTypebox<FeatureContext> = async (app, { config, database, logger }) => {
  const deps = { db: database.db };
  // The poll's read cache: a run is dropped when the validator moves it (running, then completed
  // with video.validation_completed, or failed), by the row change its commit announces (migration 0015).
  const runs = config.readCacheSize > 0 ? new ReadCache<ValidationRun>({ maxEntries: config.readCacheSize, ttlMs: RUN_CACHE_TTL_MS }) : undefined;
  const listener = runs ? await listenForRowChanges(database, { caches: { validation_runs: runs }, logger }) : undefined;
  app.addHook('onClose', async () => listener?.close());

  app.post(
    '/v1/videos/:id/validations',
    {
      onRequest: app.authenticate,
      // No body means the defaults.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags, security, summary: 'Validate the placements of a video (asynchronous)',
        description:
          'Starts a validation run of the video (its creator or an admin) and answers 202 at once with `Location: /v1/validation-runs/{id}`: ' +
          'poll it until `status` is `completed` (with `issues` and `summary`) or `failed`. The body may set `min_duration` and ' +
          '`max_concurrent_products`; an empty body uses the defaults. With `Idempotency-Key`, a retry replays the first answer: one run only.',
        params: IdParams, headers: IdempotencyHeaders, body: ValidationRequestBody,
        response: { 202: ValidationRunJson, ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const run = await requestValidation(commandOf(deps, request), request.params.id, request.body);
      reply.header('location', `/v1/validation-runs/${run.id}`);
      return reply.code(202).send(runJson(run));
    },
  );

  app.get(
    '/v1/validation-runs/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Read a validation run',
        description:
          'The state of a run: `pending`, `running`, then `completed` (with `issues`, each with a stable `code`, a `severity`, the ' +
          '`placement_ids` and `time_range` it concerns and a `message`, and a `summary`) or `failed` (with `failure_reason`). ' +
          '404 also for a run of a video you may not see.',
        params: IdParams, response: { 200: ValidationRunJson, ...problems(400, 401, 404, 422, 429) },
      },
    },
    async (request) => runJson(await getValidationRun(deps, actorOf(request), request.params.id, runs)),
  );

  app.get(
    '/v1/videos/:id/validations',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'List the latest validation runs of a video',
        description: 'The latest runs of one video, newest first (`limit`, default 20, at most 100). 404 for a video you may not see.',
        params: IdParams,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(ValidationRunJson) }, { additionalProperties: false }), ...problems(400, 401, 404, 422, 429) },
      },
    },
    async (request) => ({ items: (await listValidationRuns(deps, actorOf(request), request.params.id, request.query.limit)).map(runJson) }),
  );
};
