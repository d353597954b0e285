/**
 * Verifies bearer JWTs against a JWKS (a remote URL, cached by jose, or a local
 * key set) and turns their claims into an Actor. Issuer, audience (or Cognito's
 * `client_id` on access tokens), expiry and not-before are checked, and only
 * asymmetric algorithms are accepted: `alg: none` and HS256-with-a-public-key fail.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { Actor, Role } from './actor.js';
import { DomainError } from '../errors.js';

export const ALLOWED_ALGORITHMS = ['RS256', 'ES256'];
const ROLES: readonly Role[] = ['admin', 'advertiser', 'creator'];

export interface JwtVerifierOptions {
  /** `https://…/.well-known/jwks.json`, or a key set held in memory. */
  jwks: URL | JSONWebKeySet;
  issuer: string;
  /** Expected `aud`, or Cognito access tokens' `client_id`. */
  audience: string;
  /** Allowed clock skew in seconds. */
  clockToleranceSeconds?: number;
}

export type TokenVerifier = ((token: string) => Promise<Actor>) & {
  /** The actor of a token already verified and still valid, without waiting (a cache may offer it). */
  known?: (token: string) => Actor | undefined;
};

const unauthorized = (message: string, cause?: unknown): DomainError =>
  new DomainError('unauthorized', 'AUTH.INVALID_TOKEN', message, [], { cause });

export function actorFromClaims(payload: JWTPayload): Actor {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw unauthorized('the token has no subject');
  const groups = payload['cognito:groups'];
  const roles = (Array.isArray(groups) ? groups : []).filter((g): g is Role => ROLES.includes(g as Role));
  const advertiserId = payload['custom:advertiser_id'];
  return {
    userId: payload.sub,
    roles,
    ...(typeof advertiserId === 'string' && advertiserId.length > 0 ? { advertiserId } : {}),
  };
}

export function createJwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  const keys =
    options.jwks instanceof URL
      ? createRemoteJWKSet(options.jwks, { cacheMaxAge: 10 * 60 * 1000, cooldownDuration: 30_000, timeoutDuration: 5_000 })
      : createLocalJWKSet(options.jwks);
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: options.clockToleranceSeconds ?? 5,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw unauthorized('the token has expired', error);
      if (error instanceof errors.JOSEError) throw unauthorized('the token is not valid', error);
      throw error;
    }
    // Cognito ID tokens carry `aud`; its access tokens carry `client_id` instead.
    const audiences = Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : [];
    if (!audiences.includes(options.audience) && payload.client_id !== options.audience) {
      throw unauthorized('the token is not meant for this service');
    }
    return actorFromClaims(payload);
  };
}
