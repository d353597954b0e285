/** `/v1/notifications`: an advertiser's notifications, newest first, and marking them read. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../../platform/http/authenticate.js';
import { IdParams, ListOf, PageQuery, Uuid, problems } from '../../catalog/index.js';
import * as notifications from './notification-use-cases.js';
import { Notification, NotificationType, notificationJson } from './notification-schemas.js';

const tags = ['notifications'];
const security = [{ bearerAuth: [] }];
const scope = 'An advertiser sees its own; an admin every advertiser’s (or one, with `advertiser_id`); a creator none (403).';

export const notificationRoutes: FastifyPluginAsyncTypebox<notifications.NotificationDeps> = async (app, deps) => {
  app.get(
    '/v1/notifications',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'List your notifications, newest first',
        description:
          'What happened to your placements, campaigns, validated videos and webhooks, newest first. ' +
          `${scope} \`unread=true\` keeps those not yet marked read, \`type\` one kind. ` +
          'One page at a time: send `next_cursor` back as `cursor` until it is null (`limit` up to 200, default 50).',
        querystring: Type.Object(
          { ...PageQuery, advertiser_id: Type.Optional(Uuid), unread: Type.Optional(Type.Boolean()), type: Type.Optional(NotificationType) },
          { additionalProperties: false },
        ),
        response: { 200: ListOf(Notification), ...problems(400, 401, 403, 422, 429) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await notifications.listNotifications(deps, actorOf(request), filter, { limit, cursor });
      return { items: page.items.map(notificationJson), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/notifications/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Read a notification',
        description: `One notification. ${scope} 404 also for one you may not see.`,
        params: IdParams, response: { 200: Notification, ...problems(400, 401, 403, 404, 422, 429) },
      },
    },
    async (request) => notificationJson(await notifications.getNotification(deps, actorOf(request), request.params.id)),
  );

  app.post(
    '/v1/notifications/:id/read',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Mark a notification read',
        description: `Sets \`read_at\` (the first time only; repeating it changes nothing). ${scope} No body.`,
        params: IdParams, response: { 200: Notification, ...problems(400, 401, 403, 404, 422, 429) },
      },
    },
    async (request) => notificationJson(await notifications.markNotificationRead(deps, actorOf(request), request.params.id)),
  );

  app.post(
    '/v1/notifications/read',
    {
      onRequest: app.authenticate,
      schema: {
        tags, security, summary: 'Mark all your notifications read',
        description: `Marks every unread notification of your advertiser read (an admin names \`advertiser_id\` in the query) and says how many. ${scope}`,
        querystring: Type.Object({ advertiser_id: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 200: Type.Object({ marked: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), ...problems(400, 401, 403, 422, 429) },
      },
    },
    async (request) => ({ marked: await notifications.markAllNotificationsRead(deps, actorOf(request), request.query.advertiser_id) }),
  );
};
