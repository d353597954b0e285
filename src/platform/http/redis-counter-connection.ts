/**
 * The Redis connection the API's rate limiter counts in when `RATE_LIMIT_STORE=redis`,
 * so that every API process shares one count per caller. Tuned to fail fast: a
 * request never waits for an unreachable Redis (no offline queue, one try, short
 * connect timeout); the limiter then lets the request through (see limits.ts).
 * Connection errors are logged, at most once per `LOG_EVERY_MS`.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

const LOG_EVERY_MS = 30_000;

export function openRateLimitRedis(url: string, logger: Logger): Redis {
  const client = new Redis(url, { connectTimeout: 1_000, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  let loggedAt = 0;
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (now - loggedAt < LOG_EVERY_MS) return;
    loggedAt = now;
    logger.warn({ err: error }, 'rate limit store (Redis) unreachable: requests are let through uncounted');
  });
  return client;
}
