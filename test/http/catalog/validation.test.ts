/** Request validation: JSON types as sent, every invalid field reported with a message a client can act on, one status (422) for path, query and body. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { openHarness, seedCatalog, type Harness } from './support.js';

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

async function newProduct(): Promise<{ id: string; version: number }> {
  const res = await h.call('advertiser', { method: 'POST', url: '/v1/products', body: { name: 'Tea' } });
  expect(res.statusCode).toBe(201);
  return res.json();
}

describe(`request validation on ${engine}`, () => {
  it('takes JSON types as sent: a boolean, a number or a string of the wrong type is refused, never converted', async () => {
    const product = await newProduct();
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
});
