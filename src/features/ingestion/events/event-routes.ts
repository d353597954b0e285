/**
 * `POST /v1/events` for the video SDK: an ingest key in `x-nedlia-key` (or an admin
 * bearer token), rate limited per key, callable from any origin (CORS `*`: the key, not
 * a cookie, is the credential).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isAdmin } from '../../../platform/auth/actor.js';
import { DomainError } from '../../../platform/errors.js';
import { problems } from '../shared/ingestion-http.js';
import { checkIngestKey, type KeyDeps } from '../keys/ingest-key-use-cases.js';
import { ingestEvents, type IngestCaller, type IngestDeps } from './event-use-cases.js';
import { EventsBody, IngestAnswer } from './event-schemas.js';
import type { KeyRateLimiter } from '../keys/key-rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    ingestCaller: IngestCaller | undefined;
  }
}

export interface EventRouteDeps {
  keys: KeyDeps;
  ingest: IngestDeps;
  limiter: KeyRateLimiter;
}

export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'content-type, x-nedlia-key, x-request-id, authorization',
  'access-control-expose-headers': 'x-request-id, retry-after',
  'access-control-max-age': '600',
} as const;

export const eventRoutes: FastifyPluginAsyncTypebox<EventRouteDeps> = async (app, deps) => {
  app.decorateRequest('ingestCaller', undefined);

  const authenticateIngest = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    const key = request.headers['x-nedlia-key'];
    if (typeof key === 'string' && key !== '') {
      checkIngestKey(deps.keys, key).then((holder) => {
        const wait = deps.limiter.take(holder.keyId);
        if (wait > 0) {
          reply.header('retry-after', wait);
          return done(Object.assign(new Error(`this ingest key sent too many requests: retry in ${wait} seconds`), { statusCode: 429, code: 'REQUEST.RATE_LIMITED' }));
        }
        request.ingestCaller = { kind: 'key', keyId: holder.keyId, creatorId: holder.creatorId };
        done();
      }, done);
      return;
    }
    if (!request.headers.authorization) {
      return done(new DomainError('unauthorized', 'AUTH.REQUIRED', 'send the ingest key in `x-nedlia-key` (or an admin `Authorization: Bearer <token>`)'));
    }
    app.authenticate(request, reply, (error) => {
      if (error) return done(error);
      if (!request.actor || !isAdmin(request.actor)) {
        return done(new DomainError('forbidden', 'ACCESS.FORBIDDEN', 'events are posted with an ingest key (`x-nedlia-key`); of bearer tokens only an admin’s is accepted'));
      }
      request.ingestCaller = { kind: 'admin', userId: request.actor.userId };
      done();
    });
  };

  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(CORS_HEADERS);
    done(null, payload);
  });

  app.post(
    '/v1/events',
    {
      onRequest: authenticateIngest,
      // Per key (above), not per address: many viewers share nothing but the key.
      config: { rateLimit: false },
      schema: {
        tags: ['ingestion'],
        security: [{ bearerAuth: [] }],
        summary: 'Report playback events (video SDK)',
        description:
          'One event, or `{events: [...]}` with up to 1000. Authenticate with the publishable key in `x-nedlia-key` ' +
          '(it admits events for its creator\'s videos only) or an admin bearer token. Each event is checked on its own: ' +
          'the bad ones are listed in `rejected` with their index and reasons, the others are stored durably before the 202 ' +
          '(a crash after it loses nothing). An `id` seen before (within the ingestion window) counts once and is reported as a duplicate. ' +
          'When nothing at all is acceptable the answer is 422. Spend and stats follow asynchronously (see `GET /v1/campaigns/{id}/stats`).',
        headers: Type.Object({ 'x-nedlia-key': Type.Optional(Type.String({ description: 'A publishable ingest key (`POST /v1/ingest-keys`)' })) }),
        body: EventsBody,
        response: { 202: IngestAnswer, ...problems(400, 401, 403, 413, 415, 422, 429, 503) },
      },
      // Each event is checked on its own in the use case; the body schema above is for the documentation.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const caller = request.ingestCaller;
      if (!caller) throw new DomainError('unauthorized', 'AUTH.REQUIRED', 'send the ingest key in `x-nedlia-key`');
      const result = await ingestEvents(deps.ingest, caller, request.body);
      return reply.code(202).send(result);
    },
  );
};
