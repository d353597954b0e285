/**
 * Ingestion's HTTP side, and what each API process runs for it: the group commit of
 * accepted events, the key and placement caches, the CORS preflight of `/v1/events`,
 * the lag gauge on /metrics, and the hourly housekeeping (ingestion-maintenance.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import type { FeatureContext } from '../../platform/http/feature-routes.js';
import { GroupCommit } from './events/group-commit.js';
import { storeEvents } from './events/event-repository.js';
import { PlacementLookup } from './events/event-use-cases.js';
import { CORS_HEADERS, eventRoutes } from './events/event-routes.js';
import { KeyCache } from './keys/ingest-key-use-cases.js';
import { KeyRateLimiter } from './keys/key-rate-limit.js';
import { ingestKeyRoutes } from './keys/ingest-key-routes.js';
import { statsRoutes } from './stats/stats-routes.js';
import { ingestionStatusRoutes } from './operations/ingestion-status-routes.js';
import { matcherLag } from './operations/ingestion-status-repository.js';
import { startIngestionMaintenance } from './operations/ingestion-maintenance.js';
import { MATCHER } from './matching/campaign-matcher.js';

const LAG_GAUGE = 'nedlia_ingestion_lag_seconds';

const routes: FastifyPluginAsyncTypebox<FeatureContext> = async (app, { config, database, logger, metrics }) => {
  const db = database.db;
  const settings = config.ingestion;
  // PGlite is one session: one commit at a time. PostgreSQL: half the pool, the rest serves reads.
  const maxConcurrent = database.engine === 'pglite' ? 1 : Math.max(1, Math.floor(config.databasePoolSize / 2));
  const groupCommit = new GroupCommit((events) => storeEvents(db, events, `ingest-${Date.now().toString(36)}`), { maxConcurrent, maxEvents: 5000 });
  const keys = { db, keyCache: new KeyCache() };

  // Before serving: an insert must find this month's partition. The purges (possibly long)
  // run beside the service, now and hourly; close waits for the one running.
  const maintenance = await startIngestionMaintenance(db, settings, logger);
  app.addHook('onClose', async () => {
    await maintenance.stop();
    await groupCommit.drained();
  });

  if (metrics && !metrics.registry.getSingleMetric(LAG_GAUGE)) {
    new Gauge({
      name: LAG_GAUGE,
      help: 'Age of the oldest accepted event batch a consumer has not applied (0 when none waits)',
      labelNames: ['consumer'] as const,
      registers: [metrics.registry],
      async collect() {
        const lag = await matcherLag(db, MATCHER).catch(() => undefined);
        this.reset();
        if (lag) this.set({ consumer: lag.consumer }, lag.lagSeconds);
      },
    });
  }

  await app.register(eventRoutes, {
    keys,
    ingest: { placements: new PlacementLookup(db), groupCommit, windowDays: settings.windowDays },
    limiter: new KeyRateLimiter(settings.keyRateLimitMax),
  });
  await app.register(ingestKeyRoutes, keys);
  await app.register(statsRoutes, { db });
  await app.register(ingestionStatusRoutes, { db, groupCommit, windowDays: settings.windowDays, rawRetentionDays: settings.rawRetentionDays });
};

/**
 * The preflight of `POST /v1/events` from any origin, answered before routing (so it
 * is no route of its own, needs no credentials, and counts against no limit).
 */
const withPreflight: FastifyPluginAsyncTypebox<FeatureContext> = async (app, context) => {
  app.addHook('onRequest', (request, reply, done) => {
    if (request.method === 'OPTIONS' && request.url.split('?')[0] === '/v1/events') {
      void reply.code(204).headers(CORS_HEADERS).send();
      return;
    }
    done();
  });
  await app.register(routes, context);
};

export const ingestionRoutes: FastifyPluginAsyncTypebox<FeatureContext> = fp(withPreflight, { name: 'ingestion-routes' });
