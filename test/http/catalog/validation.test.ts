/** Request validation: JSON types as sent, every invalid field reported with a message a client can act on, one status (422) for path, query and body. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { newProduct, openHarness, seedCatalog, type Harness } from './support.js';

let h: Harness;
let seed: Awaited<ReturnType<typeof seedCatalog>>;
beforeAll(async () => {
  h = await openHarness();
  seed = await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' });
});
afterAll(async () => {
  await h.close();
});

const campaign = { name: 'Winter', budget: '1500.00', start_date: '2026-12-01', end_date: '2026-12-31' };

/** The field errors of a 422 problem, as `path: message`. */
function fieldErrors(res: { statusCode: number; json(): { errors?: { path: string; message: string }[] } }): string[] {
  expect(res.statusCode).toBe(422);
  return (res.json().errors ?? []).map((e) => `${e.path}: ${e.message}`);
}

describe(`request validation on ${engine}`, () => {
  it('refuses money sent as a JSON number, with the hint to send a decimal string', async () => {
    const res = await h.call('advertiser', { method: 'POST', url: '/v1/campaigns', body: { ...campaign, budget: 1500 } });
    const errors = fieldErrors(res);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^\/budget: .*decimal string.*"1500\.00"/);
  });

  it('shows an example, not a regular expression, for a malformed decimal string', async () => {
    const res = await h.call('advertiser', { method: 'POST', url: '/v1/campaigns', body: { ...campaign, budget: '12.345', currency: 'euro' } });
    const errors = fieldErrors(res);
    expect(errors).toEqual([expect.stringMatching(/^\/budget: .*"1500\.00"/), expect.stringMatching(/^\/currency: .*"EUR"/)]);
    expect(res.body).not.toContain('\\d');
    expect(res.body).not.toContain('^');
  });

  it('takes JSON types as sent: a boolean, a number or a string of the wrong type is refused, never converted', async () => {
    const product = await newProduct(h);
    const cases: [string, unknown, string][] = [
      ['/v1/placements', { video_id: seed.videoId, product_id: seed.productId, start_time: 0, end_time: true }, '/end_time'],
      ['/v1/placements', { video_id: seed.videoId, product_id: seed.productId, start_time: '1', end_time: 2 }, '/start_time'],
      ['/v1/videos', { title: 'T', duration: '10' }, '/duration'],
      ['/v1/products', { name: 12345 }, '/name'],
      ['/v1/campaigns', { ...campaign, product_ids: product.id }, '/product_ids'],
    ];
    for (const [url, body, path] of cases) {
      const who = url === '/v1/placements' || url === '/v1/videos' ? 'creator' : 'advertiser';
      const res = await h.call(who, { method: 'POST', url, body });
      expect(res.statusCode, `${url} ${JSON.stringify(body)}`).toBe(422);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual([path]);
    }
    const patched = await h.call('advertiser', { method: 'PATCH', url: `/v1/products/${product.id}`, headers: { 'if-match': '*' }, body: { name: 12345 } });
    expect(patched.statusCode).toBe(422);
  });

  it('reports every invalid field of a body, and lists the allowed values of an enum', async () => {
    const res = await h.call('advertiser', {
      method: 'POST', url: '/v1/campaigns',
      body: { name: '', budget: 'lots', status: 'running', start_date: '2026-13-01', end_date: '2026-12-31', pricing: { model: 'cpa', rate: '1' }, colour: 'red' },
    });
    const errors = fieldErrors(res);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/name: /),
        expect.stringMatching(/^\/budget: /),
        '/status: must be one of "draft", "active", "paused", "completed"',
        expect.stringMatching(/^\/start_date: /),
        '/pricing/model: must be one of "cpm", "cpc", "flat"',
        '/colour: is not allowed',
      ]),
    );
    expect(errors).toHaveLength(6);
  });

  it('answers invalid path, query and body fields with the same status, 422, each field named', async () => {
    const path = await h.call('advertiser', { url: '/v1/campaigns/not-a-uuid' });
    expect(fieldErrors(path)).toEqual([expect.stringMatching(/^\/params\/id: /)]);
    const query = await h.call('advertiser', { url: '/v1/campaigns?limit=0&status=running&colour=red' });
    expect(fieldErrors(query)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/query\/limit: /),
        '/query/status: must be one of "draft", "active", "paused", "completed"',
        '/query/colour: is not allowed',
      ]),
    );
    expect(fieldErrors(query)).toHaveLength(3);
    const body = await h.call('advertiser', { method: 'POST', url: '/v1/campaigns', body: { ...campaign, name: '' } });
    expect(fieldErrors(body)).toEqual([expect.stringMatching(/^\/name: /)]);
  });
});
