/** The OpenAPI 3.1 document and the docs UI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { openHarness, type Harness } from './support.js';

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
    const catalog = h.app.routeTable.filter((r) => /^\/v1\/(advertisers|campaigns|products|videos|placements)/.test(r.url));
    expect(catalog).toHaveLength(26);
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
});
