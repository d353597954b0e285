/** 405 with `Allow` for a known path, and the bearer challenge of a 401. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { isProblem, openHarness, seedCatalog, type Harness } from './support.js';

let h: Harness;
let seed: Awaited<ReturnType<typeof seedCatalog>>;
beforeAll(async () => {
  h = await openHarness();
  seed = await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' });
});
afterAll(async () => {
  await h.close();
});

describe(`method and auth challenges on ${engine}`, () => {
  it('answers a known path with an unsupported method with 405 and Allow', async () => {
    const collection = await h.call('admin', { method: 'PUT', url: '/v1/campaigns' });
    expect(collection.statusCode).toBe(405);
    expect(isProblem(collection)).toBe(true);
    expect(collection.json()).toMatchObject({ status: 405, code: 'ROUTE.METHOD_NOT_ALLOWED' });
    expect(collection.headers.allow).toBe('GET, HEAD, POST');
    const item = await h.call('admin', { method: 'POST', url: `/v1/campaigns/${seed.campaignId}?x=1` });
    expect(item.statusCode).toBe(405);
    expect(item.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
    const unknown = await h.call('admin', { method: 'PUT', url: '/v1/nothing-here' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers.allow).toBeUndefined();
  });

  it('challenges a 401 with WWW-Authenticate: Bearer', async () => {
    const missing = await h.call('anonymous', { url: '/v1/campaigns' });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="nedlia"');
    const invalid = await h.call('anonymous', { url: '/v1/campaigns', headers: { authorization: 'Bearer not.a.token' } });
    expect(invalid.statusCode).toBe(401);
    expect(invalid.headers['www-authenticate']).toMatch(/^Bearer realm="nedlia", error="invalid_token", error_description="[^"]+"$/);
    const ok = await h.call('admin', { url: '/v1/campaigns' });
    expect(ok.headers['www-authenticate']).toBeUndefined();
  });
});
