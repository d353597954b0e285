/**
 * The API as a Lambda function behind API Gateway: the same Fastify application as
 * `npm run api` (src/entry/app.ts), driven by @fastify/aws-lambda. It takes HTTP API
 * (payload 2.0) and REST API (payload 1.0) proxy events; a body API Gateway sent
 * base64-encoded (`isBase64Encoded`) is decoded to its bytes, and binary responses go
 * back base64-encoded. The request id is API Gateway's (`requestContext.requestId`), so
 * the log lines, the `x-request-id` answer and the events' correlation id match what
 * API Gateway logs.
 */
import awsLambdaFastify, { type LambdaResponse, type PromiseHandler } from '@fastify/aws-lambda';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { buildApp } from '../app.js';
import { containerResources, flushLogs, type LambdaResources } from './lambda-resources.js';

export type ApiGatewayEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;
export type ApiHandler = (event: ApiGatewayEvent, context: Context) => Promise<LambdaResponse>;

/** Response types sent base64-encoded: anything that is not text. */
export const BINARY_MIME_TYPES = ['application/octet-stream', 'application/zip', 'application/gzip', 'application/pdf', 'image/png', 'image/jpeg', 'image/webp', 'video/mp4', 'audio/mpeg'];

/** API Gateway's request id, as the only `x-request-id` the application sees. */
function withEventRequestId<E extends ApiGatewayEvent>(event: E): E {
  const id = event.requestContext?.requestId;
  if (!id) return event;
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (name.toLowerCase() !== 'x-request-id') headers[name] = value;
  }
  headers['x-request-id'] = id;
  const v1 = event as APIGatewayProxyEvent;
  if (v1.multiValueHeaders) {
    const multi = Object.fromEntries(Object.entries(v1.multiValueHeaders).filter(([name]) => name.toLowerCase() !== 'x-request-id'));
    return { ...event, headers, multiValueHeaders: { ...multi, 'x-request-id': [id] } };
  }
  return { ...event, headers };
}

export function createApiHandler(resources: () => Promise<LambdaResources> = containerResources): ApiHandler {
  let proxying: Promise<{ proxy: PromiseHandler<ApiGatewayEvent>; logger: LambdaResources['logger'] }> | undefined;
  const open = () =>
    (proxying ??= (async () => {
      const started = performance.now();
      const r = await resources();
      const opened = performance.now();
      const app = await buildApp({
        config: r.config,
        database: r.database,
        logger: r.logger,
        verifyToken: r.verifyToken,
        devIssuer: r.devIssuer,
        events: { bus: r.bus, checks: { bus: () => r.bus.ping() } },
        compileSchemasOnFirstUse: true,
      });
      const proxy = awsLambdaFastify(app, { binaryMimeTypes: BINARY_MIME_TYPES, callbackWaitsForEmptyEventLoop: false }) as PromiseHandler<ApiGatewayEvent>;
      // Plugins and routes load during the cold start, not in the first request.
      await app.ready();
      r.logger.info(
        { resources_ms: Math.round(opened - started), app_ms: Math.round(performance.now() - opened), engine: r.database.engine, bus: r.bus.name },
        'API function initialized',
      );
      return { proxy, logger: r.logger };
    })().catch((error: unknown) => {
      proxying = undefined;
      throw error;
    }));

  return async (event, context) => {
    // The pool's idle connections must not hold the invocation open.
    context.callbackWaitsForEmptyEventLoop = false;
    const { proxy, logger } = await open();
    try {
      return await proxy(withEventRequestId(event), context);
    } finally {
      await flushLogs(logger);
    }
  };
}

/** The function's handler (`api-handler.handler`). */
export const handler = createApiHandler();
