/**
 * Authentication for routes: `onRequest: app.authenticate` verifies the bearer token
 * and sets `request.actor`; without a valid token the request ends with 401. What an
 * actor may then do is decided by the use cases (application layer), not here.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Actor } from '../../../application/actor.js';
import { DomainError } from '../../../domain/errors.js';
import type { TokenVerifier } from '../../../infrastructure/auth/jwt-verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | undefined;
  }
  interface FastifyInstance {
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export interface AuthenticationOptions {
  /** Undefined when no token issuer is configured: every protected route answers 401. */
  verifyToken: TokenVerifier | undefined;
}

const BEARER = 'Bearer ';

export function missingCredentials(): DomainError {
  return new DomainError('unauthorized', 'AUTH.REQUIRED', 'send `Authorization: Bearer <token>`');
}

/** The authenticated actor of a request that passed `app.authenticate`. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw missingCredentials();
  return request.actor;
}

export const authentication = fp<AuthenticationOptions>(
  async (app, { verifyToken }) => {
    app.decorateRequest('actor', undefined);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      if (!header) throw missingCredentials();
      // Only the scheme is checked here: a token that is not a well-formed JWT fails
      // verification (401 AUTH.INVALID_TOKEN) without a pattern run on every request.
      const token = header.startsWith(BEARER) ? header.slice(BEARER.length) : '';
      if (token === '') throw new DomainError('unauthorized', 'AUTH.INVALID_TOKEN', 'the Authorization header is not a bearer JWT');
      if (!verifyToken) throw new DomainError('unauthorized', 'AUTH.NOT_CONFIGURED', 'no token issuer is configured');
      request.actor = await verifyToken(token);
    });
  },
  { name: 'authentication' },
);
