/**
 * Builds the HTTP application: plugins in boot order (framework, ours, routes).
 * Tests call `buildApp` and `inject`; `server.ts` adds listening and shutdown.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { DatabaseHandle } from '../../infrastructure/db/connect.js';
import { PROBLEM_CONTENT_TYPE, ProblemSchema, problem, toProblem } from './problem.js';
import { healthRoutes } from './routes/health.js';
import { authentication } from './auth/authenticate.js';
import type { TokenVerifier } from '../../infrastructure/auth/jwt-verifier.js';

export interface AppDependencies {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  /** Verifies bearer tokens; without one, every protected route answers 401. */
  verifyToken?: TokenVerifier;
}

/** The application with its type provider: routes infer their types from TypeBox schemas. */
export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

const REQUEST_ID = /^[\w\-.:]{1,128}$/;

export async function buildApp(deps: AppDependencies): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Echo a sane client-sent x-request-id, otherwise make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(ProblemSchema);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.setErrorHandler((error, request, reply) => {
    const body = toProblem(error, request.url);
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, status: body.status }, body.detail ?? body.title);
    return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(problem(404, `no route for ${request.method} ${request.url.split('?')[0]}`, request.url, { code: 'ROUTE.NOT_FOUND' })),
  );

  await app.register(authentication, { verifyToken: deps.verifyToken });

  await app.register(healthRoutes, { database: deps.database });

  return app;
}
