/** The OpenAPI 3.1 document and the docs UI. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config/config.js';
import { openDevIssuer } from '../../../src/platform/auth/dev-issuer.js';
import { Metrics } from '../../../src/platform/metrics/metrics.js';
import { buildApp } from '../../../src/entry/app.js';
import { engine } from '../../support/engine.js';
import { openHarness, type Harness } from './support.js';

interface Operation {
  description?: string;
  security?: unknown;
  tags?: string[];
}
type Paths = Record<string, Record<string, Operation>>;


let h: Harness;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h.close();
});

describe(`OpenAPI on ${engine}`, () => {
  it('serves an OpenAPI 3.1 document describing every catalog route, its auth and its problems', async () => {
    const res = await h.app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.Problem).toBeDefined();
    const catalog = h.app.routeTable.filter((r) => /^\/v1\/(advertisers|campaigns|products|videos|placements)/.test(r.url) && !/\/(validations|placement-file)$/.test(r.url));
    // 26 of the catalog, the campaign stats of ingestion, and the analysis feature's GET /v1/videos/{id}/transcript.
    expect(catalog).toHaveLength(28);
    for (const route of catalog) {
      const op = doc.paths[route.url.replace(':id', '{id}')]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.url}`).toBeDefined();
      expect(op.security).toEqual([{ bearerAuth: [] }]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '401', '429']));
      const problem = op.responses['401'].content['application/problem+json'].schema;
      expect(JSON.stringify(problem)).toContain('Problem');
      if (route.method === 'PATCH' || route.method === 'DELETE') expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['404', '412', '428']));
      if (route.method === 'POST') expect(op.parameters.map((p: { name: string }) => p.name)).toContain('idempotency-key');
    }
    expect(doc.paths['/v1/campaigns'].post.requestBody.content['application/json'].schema.properties.budget.type).toBe('string');
  });

  it('serves the docs UI', async () => {
    const res = await h.app.inject({ url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });

  it('declares bearer security exactly on the routes that need a token, describes every operation, and orders its tags', async () => {
    // Every route there is: with the development issuer's JWKS and /metrics as well.
    const dataDir = await mkdtemp(path.join(tmpdir(), 'nedlia-openapi-'));
    const app = await buildApp({
      config: loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0' }),
      database: h.database,
      logger: pino({ level: 'silent' }),
      verifyToken: h.verifyToken,
      devIssuer: await openDevIssuer(dataDir),
      events: { metrics: new Metrics() },
    });
    try {
      const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Paths; tags: { name: string }[] };
      const security: string[] = [];
      const undescribed: string[] = [];
      const tags = new Set<string>();
      for (const [route, operations] of Object.entries(doc.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          const label = `${method.toUpperCase()} ${route}`;
          // Without a token: a route that needs one answers 401 before it reads anything else.
          const anonymous = await app.inject({ method: method.toUpperCase() as 'GET', url: route.replace(/\{[^}]+\}/g, randomUUID()) });
          const declared = JSON.stringify(operation.security ?? []) === JSON.stringify([{ bearerAuth: [] }]);
          if ((anonymous.statusCode === 401) !== declared) security.push(`${label}: answers ${anonymous.statusCode} without a token, security ${JSON.stringify(operation.security)}`);
          if (!/^[A-Z`].{30,}[.)]$/s.test(operation.description ?? '')) undescribed.push(label);
          for (const tag of operation.tags ?? []) tags.add(tag);
        }
      }
      expect(security).toEqual([]);
      expect(undescribed).toEqual([]);
      expect(doc.paths['/v1/admin/dead-letters']?.get?.security).toEqual([{ bearerAuth: [] }]);

      const order = doc.tags.map((t) => t.name);
      expect(order).toEqual(['advertisers', 'campaigns', 'products', 'videos', 'placements', 'validation', 'placement-files', 'notifications', 'webhooks', 'sync', 'analysis', 'admin', 'ingestion', 'auth', 'operations']);
      expect([...tags].filter((tag) => !order.includes(tag))).toEqual([]);
    } finally {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
