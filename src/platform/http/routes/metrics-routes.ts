/**
 * `GET /metrics` (Prometheus text) and the HTTP request metrics. Registered before the
 * routes so its hooks see every request. The route label is the route pattern, never
 * the raw URL, so ids do not explode the series. `serve: false` records the requests
 * but leaves `/metrics` to another server (`METRICS_PORT`, see process/ops-http.ts).
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from '../../metrics/metrics.js';

export interface MetricsOptions {
  metrics: Metrics;
  /** Count this server's requests (default true). */
  record?: boolean;
  /** Answer `GET /metrics` here (default true). */
  serve?: boolean;
}

const plugin: FastifyPluginAsync<MetricsOptions> = async (app, { metrics, record = true, serve = true }) => {
  // A plain callback, not an async hook: every request runs it.
  if (record) {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const labels = { method: request.method, route, status: String(reply.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpSeconds.observe(labels, reply.elapsedTime / 1000);
      done();
    });
  }

  if (!serve) return;
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description: 'Prometheus text format: HTTP requests and durations, consumers, the outbox relay and the read caches. For scrapers; no token.',
        produces: ['text/plain'],
        response: { 200: { type: 'string' } },
      },
      logLevel: 'warn',
    },
    async (_request, reply) => {
      const body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    },
  );
};

export const metricsRoutes = fp(plugin, { name: 'metrics' });
