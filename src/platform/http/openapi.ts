/**
 * The OpenAPI 3.1 document, generated from the routes' TypeBox schemas, at
 * `/openapi.json`, and its browsable UI at `/docs`. Register before the routes:
 * @fastify/swagger collects them as they are added.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** A group of operations in the document; features bring their own (see feature-routes.ts). */
export interface OpenApiTag {
  name: string;
  description: string;
}

/** The kernel's own tags, after the features'. */
const KERNEL_TAGS: OpenApiTag[] = [
  { name: 'auth', description: 'Who the token says you are; the development issuer' },
  { name: 'operations', description: 'Health and metrics, for load balancers and scrapers' },
];


export const openApi = fp(
  async (app: FastifyInstance, { tags }: { tags: readonly OpenApiTag[] }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Nedlia API',
          version: '1.0.0',
          description:
            'Product placement for video. Bodies are JSON (`application/json`; PATCH also `application/merge-patch+json`; ' +
            'another content type is 415). Errors are RFC 9457 problem details (`application/problem+json`); invalid fields ' +
            '(body, path or query) are 422 with every one listed in `errors`. Versioned resources return `ETag`; PATCH and ' +
            'DELETE need `If-Match` (`"<version>"` or `*`). POST accepts `Idempotency-Key`. A 401 carries `WWW-Authenticate: Bearer`.',
        },
        // The docs UI shows tags in this order: the features' (in the order they are wired in), then auth and operations.
        tags: [...tags, ...KERNEL_TAGS],
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
