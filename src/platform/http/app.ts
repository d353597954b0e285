/**
 * Builds the HTTP application: plugins in boot order (framework, the kernel's, then each
 * feature's routes from `deps.features`). src/entry/app.ts builds it with every feature;
 * tests call that and `inject`; entry/process/start-runtime.ts adds listening and shutdown.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { DatabaseHandle } from '../db/connect.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS } from '../db/connection-faults.js';
import type { ConstraintTable } from '../db/database-errors.js';
import { PROBLEM_CONTENT_TYPE, ProblemSchema, problem, toProblem } from './problem.js';
import { healthRoutes } from './routes/health-routes.js';
import { authentication, bearerChallenge } from './authenticate.js';
import type { TokenVerifier } from '../auth/jwt-verifier.js';
import type { DevIssuer } from '../auth/dev-issuer.js';
import { limits } from './limits.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { jsonBodies } from './json-bodies.js';
import { buildValidator } from './validation.js';
import { lazySerializers, lazyValidators } from './lazy-compilers.js';
import { openRateLimitRedis } from './redis-counter-connection.js';
import { devIssuerRoutes } from './routes/dev-issuer-routes.js';
import { meRoutes } from './routes/me-routes.js';
import type { EventBus } from '../bus/event-bus.js';
import type { Metrics } from '../metrics/metrics.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { openApi } from './openapi.js';
import { routeTable } from './route-table.js';
import { idempotency } from './idempotency.js';
import type { FeatureRoutes } from './feature-routes.js';
import { FastPath, requestIdOf } from './fast-path.js';

export interface AppDependencies {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  /** Verifies bearer tokens; without one, every protected route answers 401. */
  verifyToken?: TokenVerifier;
  /** The development issuer, when on: its JWKS is served at /.well-known/jwks.json. */
  devIssuer?: DevIssuer;
  /** The event side of this process: bus (dead-letter replay), metrics, readiness checks. */
  events?: { bus?: EventBus; metrics?: Metrics; checks?: Record<string, () => Promise<void>> };
  /** The features' routes, registered in this order (src/entry/routes.ts). */
  features: readonly FeatureRoutes[];
  /** Compile each route's schemas on its first request, not at start (Lambda: lazy-compilers.ts). */
  compileSchemasOnFirstUse?: boolean;
}

/** The application with its type provider: routes infer their types from TypeBox schemas. */
export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/**
 * The request log: one line per request, when it completes, instead of Fastify's
 * two (incoming + completed), which halves the logging work of every request. It
 * carries the request id (`reqId`, bound by `request.log`); a route's `logLevel`
 * above info silences it; failed responses and Fastify's other lines are unchanged.
 */
class OneLineRequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply);
    request.log.info(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, ip: request.ip },
      'request completed',
    );
  }
}

const trustHops = (hops: number) => (hops === 0 ? false : (_address: string, hop: number) => hop < hops);

export async function buildApp(deps: AppDependencies): Promise<App> {
  const constraints = Object.assign({}, ...deps.features.map((f) => f.constraints ?? {})) as ConstraintTable;
  // Public cacheable reads a feature answers from memory before routing (fast-path.ts).
  const trustProxy = deps.config.trustProxy;
  const fastPath = new FastPath({
    logger: deps.logger,
    ...(deps.events?.metrics ? { metrics: deps.events.metrics } : {}),
    corsOrigins: deps.config.corsOrigins,
    trustsProxies: typeof trustProxy === 'number' ? trustProxy > 0 : trustProxy.length > 0,
  });
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Echo a sane client-sent x-request-id, otherwise make one.
    genReqId: requestIdOf,
    serverFactory: fastPath.serverFactory(),
    bodyLimit: deps.config.bodyLimitBytes,
    logController: new OneLineRequestLog(),
    // The client address (rate limits, logs) from x-forwarded-for only when set to trust the proxies in front.
    trustProxy: typeof deps.config.trustProxy === 'number' ? trustHops(deps.config.trustProxy) : deps.config.trustProxy,
    return503OnClosing: true,
    // Errors the router raises before any route runs (a malformed %-escape in the path) are problems too.
    frameworkErrors: (error, request, reply) => {
      (reply as FastifyReply).code(400).type(PROBLEM_CONTENT_TYPE).send(problem(400, 'the URL is malformed', request.url, { code: 'REQUEST.MALFORMED_URL' }));
    },
    // Bodies are validated as sent, path and query values coerced (validation.ts).
    schemaController: {
      compilersFactory: deps.compileSchemasOnFirstUse
        ? { buildValidator: lazyValidators(buildValidator), buildSerializer: lazySerializers() as never }
        : { buildValidator },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('fastPath', fastPath);
  app.addHook('preClose', (done) => {
    fastPath.close();
    done();
  });
  app.addSchema(ProblemSchema);
  jsonBodies(app);

  // Hooks every request runs are plain callbacks: an async hook costs a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const body = toProblem(error, request.url, constraints);
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, status: body.status }, body.detail ?? body.title);
    if (body.code === 'DEPENDENCY.UNAVAILABLE') reply.header('retry-after', UNAVAILABLE_RETRY_AFTER_SECONDS);
    if (body.status === 401) reply.header('www-authenticate', bearerChallenge(body.code, body.detail));
    return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // A known path asked with another method: 405 naming the methods it answers (RFC 9110).
    const allow = app.allowedMethods(path).join(', ');
    if (allow !== '') {
      const detail = `${request.method} is not supported on ${path}: use ${allow}`;
      return reply.code(405).header('allow', allow).type(PROBLEM_CONTENT_TYPE).send(problem(405, detail, request.url, { code: 'ROUTE.METHOD_NOT_ALLOWED' }));
    }
    const detail = `no route for ${request.method} ${path}`;
    return reply.code(404).type(PROBLEM_CONTENT_TYPE).send(problem(404, detail, request.url, { code: 'ROUTE.NOT_FOUND' }));
  });

  await app.register(authentication, { verifyToken: deps.verifyToken });
  await app.register(methodNotAllowed);
  // Before any route: the rate limit and CORS hooks attach to routes registered after them.
  const { rateLimit, brokers } = deps.config;
  const counterRedis = rateLimit.store === 'redis' && rateLimit.max > 0 ? openRateLimitRedis(brokers.redisUrl, deps.logger) : undefined;
  if (counterRedis) app.addHook('onClose', async () => void counterRedis.disconnect());
  await app.register(limits, {
    rateLimit,
    corsOrigins: deps.config.corsOrigins,
    ...(counterRedis ? { redis: { client: counterRedis, keyPrefix: `${brokers.namespace}:rate-limit:` } } : {}),
  });
  // Before any route: the OpenAPI document and the route table collect routes as they are added.
  await app.register(openApi, { tags: deps.features.flatMap((f) => f.tags ?? []) });
  await app.register(routeTable);
  await app.register(idempotency, { database: deps.database });

  // With METRICS_PORT, /metrics is served there (process/ops-http.ts), not on the public port.
  if (deps.events?.metrics) await app.register(metricsRoutes, { metrics: deps.events.metrics, serve: deps.config.metricsPort === undefined });

  await app.register(healthRoutes, { database: deps.database, checks: deps.events?.checks ?? {} });
  if (deps.devIssuer) await app.register(devIssuerRoutes, { devIssuer: deps.devIssuer });
  await app.register(meRoutes);
  const context = {
    config: deps.config,
    database: deps.database,
    logger: deps.logger,
    ...(deps.events?.bus ? { bus: deps.events.bus } : {}),
    ...(deps.events?.metrics ? { metrics: deps.events.metrics } : {}),
  };
  for (const feature of deps.features) await app.register(feature.routes, context);

  return app;
}
