/**
 * Request limits: a rate limit per caller (429 + `retry-after`) and CORS for the
 * configured origins only. The body size limit is Fastify's own `bodyLimit`
 * (`BODY_LIMIT_BYTES`), answered with 413 by the problem handler.
 *
 * The rate limit runs after authentication (`preParsing`, after the routes'
 * `onRequest: app.authenticate`), so it counts per *verified* subject: a forged
 * token naming someone else's `sub` is rejected before it can use up that
 * caller's allowance. Everything else counts per client address. The `x-nedlia-key`
 * ingest key is deliberately not a key of its own: it is publishable (every viewer
 * of a creator's videos sends the same one) and, unverified, any made-up value
 * would open a fresh allowance.
 *
 * Requests that fail before that limit runs (a bad token is refused in `onRequest`;
 * an unknown route has no route hooks) are counted per client address instead, so
 * a flood of forged tokens or probes meets the same allowance.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import fp from 'fastify-plugin';

export interface LimitsOptions {
  /** Requests per caller per window; 0 turns rate limiting off. */
  rateLimit: { max: number; windowMs: number };
  /** A Redis connection shared by every API process to count in; each process counts alone without one. */
  redis?: { client: Redis; keyPrefix: string };
  /** Exact origins allowed by CORS; empty = no CORS headers at all. */
  corsOrigins: readonly string[];
}

/** Error code of a rate-limited request (mapped to 429 by the problem handler). */
export const RATE_LIMITED = 'REQUEST.RATE_LIMITED';

/** Who a request counts against. */
export function rateLimitKey(request: FastifyRequest): string {
  return request.actor ? `sub:${request.actor.userId}` : `ip:${request.ip}`;
}

const EXEMPT = /^\/health\//;
/** Addresses tracked by the failure counter before expired entries are swept. */
const MAX_TRACKED_ADDRESSES = 100_000;

const rateLimited = (statusCode: number, after: string): Error =>
  Object.assign(new Error(`too many requests: retry in ${after}`), { statusCode, code: RATE_LIMITED });

/** Counts 401s and unknown-route 404s per address; past `max` in a window, the address gets 429. */
function limitFailures(app: FastifyInstance, { max, windowMs }: LimitsOptions['rateLimit']): void {
  const failures = new Map<string, { count: number; resetAt: number }>();
  // Plain callbacks, not async hooks: every request runs them.
  app.addHook('onRequest', (request, reply, done) => {
    const entry = failures.get(request.ip);
    if (!entry || entry.count < max || EXEMPT.test(request.url)) return done();
    const waitMs = entry.resetAt - Date.now();
    if (waitMs <= 0) {
      failures.delete(request.ip);
      return done();
    }
    const seconds = Math.ceil(waitMs / 1000);
    reply.header('retry-after', seconds);
    done(rateLimited(429, `${seconds} seconds`));
  });
  const countFailure = (address: string) => {
    const now = Date.now();
    let entry = failures.get(address);
    if (!entry || entry.resetAt <= now) {
      if (failures.size >= MAX_TRACKED_ADDRESSES) {
        for (const [known, old] of failures) if (old.resetAt <= now) failures.delete(known);
        if (failures.size >= MAX_TRACKED_ADDRESSES) failures.clear();
      }
      entry = { count: 0, resetAt: now + windowMs };
      failures.set(address, entry);
    }
    entry.count++;
  };
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode === 401 || (request.is404 && reply.statusCode === 404)) countFailure(request.ip);
    done();
  });
}

export const limits = fp<LimitsOptions>(
  async (app, options) => {
    if (options.corsOrigins.length > 0) {
      await app.register(cors, {
        origin: [...options.corsOrigins],
        methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        exposedHeaders: ['etag', 'location', 'retry-after', 'x-request-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
        // Bearer tokens travel in a header, never in cookies.
        credentials: false,
        maxAge: 600,
      });
    }

    if (options.rateLimit.max > 0) {
      // Health routes carry no limiter at all. Any route may set its own
      // `config: { rateLimit: { max, timeWindow } }`, or `rateLimit: false`.
      app.addHook('onRoute', (route) => {
        if (EXEMPT.test(route.url)) route.config = { ...route.config, rateLimit: false };
      });
      await app.register(rateLimit, {
        global: true,
        hook: 'preParsing',
        max: options.rateLimit.max,
        timeWindow: options.rateLimit.windowMs,
        keyGenerator: rateLimitKey,
        ...(options.redis
          ? {
              redis: options.redis.client,
              nameSpace: options.redis.keyPrefix,
              // Redis unreachable: let requests through (and log) rather than refuse them all.
              skipOnError: true,
            }
          : {}),
        errorResponseBuilder: (_request, context) => rateLimited(context.statusCode, context.after),
      });
      limitFailures(app, options.rateLimit);
    }
  },
  { name: 'limits', dependencies: ['authentication'] },
);
