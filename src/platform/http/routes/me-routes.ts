/** `GET /v1/me`: who the bearer token says the caller is, as the service understood it. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../authenticate.js';

const Me = Type.Object(
  {
    user_id: Type.String({ description: 'The token subject (`sub`)' }),
    roles: Type.Array(Type.Union([Type.Literal('admin'), Type.Literal('advertiser'), Type.Literal('creator')]), {
      description: 'From `cognito:groups`; unknown groups are left out',
    }),
    advertiser_id: Type.Union([Type.String(), Type.Null()], { description: 'From `custom:advertiser_id`' }),
  },
  { description: 'The authenticated caller' },
);

export const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/me',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'The authenticated caller: user id, roles and advertiser scope',
        description: 'How the service read your bearer token: the user id (`sub`), the roles it grants and the advertiser it acts for. Use it to check a token before calling the rest of the API.',
        security: [{ bearerAuth: [] }],
        response: { 200: Me, 401: { $ref: 'Problem#' }, 429: { $ref: 'Problem#' } },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      return { user_id: actor.userId, roles: [...actor.roles], advertiser_id: actor.advertiserId ?? null };
    },
  );
};
