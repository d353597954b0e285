/**
 * Authentication for routes: `onRequest: app.authenticate` verifies the bearer token
 * and sets `request.actor`; without a valid token the request ends with 401. What an
 * actor may then do is decided by the features' use cases, not here.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Actor } from '../events/command-context.js';
import { DomainError } from '../errors.js';
import type { TokenVerifier } from '../auth/jwt-verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | undefined;
  }
  interface FastifyInstance {
    authenticate: (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void;
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

/**
 * The `WWW-Authenticate` challenge of a 401 (RFC 6750): `error="invalid_token"` with
 * its reason when a token was sent and refused, the bare scheme when none was.
 */
export function bearerChallenge(code: string | undefined, detail: string | undefined): string {
  const challenge = 'Bearer realm="nedlia"';
  if (code !== 'AUTH.INVALID_TOKEN') return challenge;
  // error_description allows printable ASCII except `"` and `\`.
  const description = (detail ?? 'the token is invalid').replace(/[^\x20-\x7e]|["\\]/g, "'");
  return `${challenge}, error="invalid_token", error_description="${description}"`;
}

/** The authenticated actor of a request that passed `app.authenticate`. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw missingCredentials();
  return request.actor;
}

/**
 * Says why a token was refused (the client only sees 401), e.g. "signature verification
 * failed" for a token of another issuer's key, "no applicable key found in the JSON Web
 * Key Set" for an unknown `kid`. The token itself is never logged.
 */
function logRejectedToken(request: FastifyRequest, error: DomainError): void {
  const cause = error.cause as { message?: unknown; code?: unknown } | undefined;
  const reason = typeof cause?.message === 'string' ? cause.message : error.message;
  const code = typeof cause?.code === 'string' ? cause.code : error.code;
  request.log.info({ reason, code }, `token rejected: ${reason}`);
}

export const authentication = fp<AuthenticationOptions>(
  async (app, { verifyToken }) => {
    app.decorateRequest('actor', undefined);
    // A callback hook: a token verified before (cached) costs no promise; a new one is verified asynchronously.
    app.decorate('authenticate', (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
      const header = request.headers.authorization;
      if (!header) return done(missingCredentials());
      // Only the scheme is checked here: a token that is not a well-formed JWT fails
      // verification (401 AUTH.INVALID_TOKEN) without a pattern run on every request.
      const token = header.startsWith(BEARER) ? header.slice(BEARER.length) : '';
      if (token === '') return done(new DomainError('unauthorized', 'AUTH.INVALID_TOKEN', 'the Authorization header is not a bearer JWT'));
      if (!verifyToken) return done(new DomainError('unauthorized', 'AUTH.NOT_CONFIGURED', 'no token issuer is configured'));
      const known = verifyToken.known?.(token);
      if (known) {
        request.actor = known;
        return done();
      }
      verifyToken(token).then(
        (actor) => {
          request.actor = actor;
          done();
        },
        (error: unknown) => {
          if (error instanceof DomainError) logRejectedToken(request, error);
          done(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  },
  { name: 'authentication' },
);
