/**
 * The OpenAPI 3.1 document, generated from the routes' TypeBox schemas, at
 * `/openapi.json`, and its browsable UI at `/docs`. Register before the routes:
 * @fastify/swagger collects them as they are added.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const openApi = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Nedlia API',
          version: '1.0.0',
          description:
            'Product placement for video. Errors are RFC 9457 problem details (`application/problem+json`). ' +
            'Versioned resources return `ETag`; PATCH and DELETE need `If-Match`. POST accepts `Idempotency-Key`.',
        },
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      },
      // Shared schemas keep their own names (`Problem`) in components.
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true }, logLevel: 'warn' }, async () => app.swagger());
  },
  { name: 'openapi' },
);
