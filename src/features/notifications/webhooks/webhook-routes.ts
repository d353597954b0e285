/** `/v1/webhooks`: an advertiser's signed endpoints, their secrets, deliveries and replays. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../../platform/http/authenticate.js';
import {
  IdParams, IdempotencyHeaders, IfMatchHeaders, ListOf, PageQuery, Uuid, commandOf, expectedVersion, problems, rejectNulCharacters, setEtag,
} from '../../catalog/index.js';
import * as webhooks from './webhook-use-cases.js';
import { Delivery, NewWebhook, RotateSecretBody, Webhook, WebhookPatchBody, WebhookWithSecret, deliveryJson, webhookJson } from './webhook-schemas.js';
import type { FastifyRequest } from 'fastify';

const tags = ['webhooks'];
const security = [{ bearerAuth: [] }];
const scope = 'An advertiser manages its own webhooks, an admin any advertiser’s; a creator none (403). 404 also for a webhook you may not see.';
const signing =
  'Each notification is POSTed as a CloudEvent in structured mode (`application/cloudevents+json`) with the Standard Webhooks headers ' +
  '`webhook-id` (the notification id, the same on every attempt), `webhook-timestamp` (Unix seconds) and `webhook-signature` ' +
  '(`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`; during a secret rotation one signature per secret, space-separated). ' +
  'A 2xx answer is a success; anything else, or no complete answer within 15 s, is retried about 10 times over 3 days (`Retry-After` is honoured); ' +
  'an endpoint answering 410, or failing every attempt for 5 days, is disabled and you are notified (`webhook.disabled`).';

export const webhookRoutes: FastifyPluginAsyncTypebox<webhooks.WebhookDeps> = async (app, deps) => {
  const command = (request: FastifyRequest): webhooks.WebhookCommand => ({ ...commandOf(deps, request), httpsOnly: deps.httpsOnly });

  app.get(
    '/v1/webhooks',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'List your webhooks',
        description: `Webhooks oldest first, with their health (\`failure_count\`, \`last_error\`, \`status\`, \`disabled_reason\`); never their secrets. ${scope} ` +
          'One page at a time: send `next_cursor` back as `cursor` until it is null (`limit` up to 200, default 50).',
        querystring: Type.Object({ ...PageQuery, advertiser_id: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 200: ListOf(Webhook), ...problems(400, 401, 403, 422, 429) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await webhooks.listWebhooks(deps, actorOf(request), filter, { limit, cursor });
      return { items: page.items.map(webhookJson), next_cursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/webhooks',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Register a webhook (advertiser, admin)',
        description: `Registers an endpoint for the notification types in \`event_types\`. The answer carries the signing \`secret\` (yours, or a new \`whsec_…\` one): it is shown this once. ${signing} ${scope} ` +
          'Answers 201 with `Location` and `ETag`. With `Idempotency-Key`, a retry replays the first response: nothing is created twice.',
        headers: IdempotencyHeaders, body: NewWebhook,
        response: { 201: WebhookWithSecret, ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const { webhook, secret } = await webhooks.createWebhook(command(request), request.body);
      setEtag(reply, webhook.version);
      reply.header('location', `/v1/webhooks/${webhook.id}`);
      return reply.code(201).send({ ...webhookJson(webhook), secret });
    },
  );

  app.get(
    '/v1/webhooks/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Read a webhook',
        description: `One webhook and its health; never its secret. The \`ETag\` header carries its version. ${scope}`,
        params: IdParams, response: { 200: Webhook, ...problems(400, 401, 403, 404, 422, 429) },
      },
    },
    async (request, reply) => {
      const webhook = await webhooks.getWebhook(deps, actorOf(request), request.params.id);
      setEtag(reply, webhook.version);
      return webhookJson(webhook);
    },
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Change a webhook, or enable it again',
        description: `Changes its \`url\` or \`event_types\`; \`status: "active"\` turns a disabled webhook on again (its failure count starts over; replay what it missed). ${scope} ` +
          'Needs `If-Match` with the ETag you read (or `*`): 428 without it, 412 when it changed since, and then nothing changes.',
        params: IdParams, headers: IfMatchHeaders, body: WebhookPatchBody,
        response: { 200: Webhook, ...problems(400, 401, 403, 404, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      const webhook = await webhooks.updateWebhook(command(request), request.params.id, version, request.body);
      setEtag(reply, webhook.version);
      return webhookJson(webhook);
    },
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Delete a webhook',
        description: `Removes the webhook; its pending deliveries are given up. ${scope} Needs \`If-Match\` with the ETag you read (or \`*\`); 412 when it changed since.`,
        params: IdParams, headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(400, 401, 403, 404, 412, 413, 415, 422, 428, 429) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request);
      await webhooks.deleteWebhook(command(request), request.params.id, version);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      onRequest: app.authenticate,
      preValidation: rejectNulCharacters,
      schema: {
        tags, security, summary: 'Rotate a webhook’s signing secret',
        description: 'Makes a new secret (or takes yours) and answers it, shown this once. The current secret keeps signing beside it for `overlap_seconds` ' +
          '(default 24 h): every delivery carries both signatures until then, so you can switch your receiver without losing a message. ' + scope,
        params: IdParams, body: RotateSecretBody,
        response: { 200: WebhookWithSecret, ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const { webhook, secret } = await webhooks.rotateSecret(command(request), request.params.id, request.body);
      setEtag(reply, webhook.version);
      return { ...webhookJson(webhook), secret };
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'List a webhook’s deliveries and their attempts',
        description: `Every notification sent (or to be sent) to this webhook, newest first, each with its status, next attempt and the log of its attempts (status code, error, duration). ${scope} ` +
          'One page at a time: send `next_cursor` back as `cursor` until it is null (`limit` up to 200, default 50).',
        params: IdParams, querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: { 200: ListOf(Delivery), ...problems(400, 401, 403, 404, 422, 429) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await webhooks.listDeliveries(deps, actorOf(request), request.params.id, { limit, cursor });
      return { items: page.items.map(deliveryJson), next_cursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/webhook-deliveries/:id/replay',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Send a delivery again',
        description: 'Queues the delivery to be sent again now, on a fresh retry schedule; its earlier attempts stay in the log. ' +
          'A pending delivery is left as it is. 409 while the webhook is disabled (enable it first). ' + scope,
        params: IdParams,
        response: { 202: Delivery, ...problems(400, 401, 403, 404, 409, 422, 429) },
      },
    },
    async (request, reply) => reply.code(202).send(deliveryJson(await webhooks.replayDelivery(command(request), request.params.id))),
  );
};
