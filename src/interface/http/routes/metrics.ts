/**
 * `GET /metrics` (Prometheus text) and the HTTP request metrics. Registered before the
 * routes so its hooks see every request. The route label is the route pattern, never
 * the raw URL, so ids do not explode the series.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from '../../../infrastructure/metrics/metrics.js';

export interface MetricsOptions {
  metrics: Metrics;
}

const plugin: FastifyPluginAsync<MetricsOptions> = async (app, { metrics }) => {
  // A plain callback, not an async hook: every request runs it.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpSeconds.observe(labels, reply.elapsedTime / 1000);
    done();
  });

  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: { type: 'string' } } }, logLevel: 'warn' },
    async (_request, reply) => {
      const body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    },
  );
};

export const metricsRoutes = fp(plugin, { name: 'metrics' });
