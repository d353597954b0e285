/**
 * The operations server on `METRICS_PORT`: liveness, readiness (database and bus) and
 * Prometheus metrics. A worker serves its probes and metrics here; an API process
 * with `METRICS_PORT` serves `/metrics` here instead of on its public port.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../../platform/db/connect.js';
import type { Metrics } from '../../platform/metrics/metrics.js';
import { ProblemSchema } from '../../platform/http/problem.js';
import { healthRoutes } from '../../platform/http/routes/health-routes.js';
import { metricsRoutes } from '../../platform/http/routes/metrics-routes.js';

export async function startOpsHttp(options: {
  port: number;
  host: string;
  logger: Logger;
  database: DatabaseHandle;
  metrics: Metrics;
  checks: Record<string, () => Promise<void>>;
}): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: options.logger as FastifyBaseLogger, return503OnClosing: true });
  app.addSchema(ProblemSchema);
  // This server's own requests (scrapes, probes) are not counted: the metrics describe the service.
  await app.register(metricsRoutes, { metrics: options.metrics, record: false });
  await app.register(healthRoutes, { database: options.database, checks: options.checks });
  await app.listen({ port: options.port, host: options.host });
  return app;
}
