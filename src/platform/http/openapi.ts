/**
 * The OpenAPI 3.1 document, generated from the routes' TypeBox schemas, at
 * `/openapi.json`, and its browsable UI at `/docs`. Register before the routes:
 * @fastify/swagger collects them as they are added.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const TAGS = [
  { name: 'advertisers', description: 'Companies that run campaigns' },
  { name: 'campaigns', description: "An advertiser's budgets, pricing and dates for its products" },
  { name: 'products', description: 'What advertisers want placed in videos' },
  { name: 'videos', description: "Creators' videos" },
  { name: 'placements', description: 'A product shown in a video over a time range, at a position on screen' },
  { name: 'auth', description: 'Who the token says you are; the development issuer' },
  { name: 'operations', description: 'Health and metrics, for load balancers and scrapers' },
  { name: 'admin', description: 'Dead letters and the event log (admin role)' },
];

export const openApi = fp(
  async (app: FastifyInstance) => {
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
        // The docs UI shows tags in this order: the resources first, then auth and operations, admin last.
        tags: TAGS,
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
