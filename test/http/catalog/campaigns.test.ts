/** Campaigns over HTTP: money as strings, pricing, products of its own advertiser, read-only spent, events. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { eventOf, isProblem, openHarness, requestId, type Harness } from './support.js';

let h: Harness;
let productId: string;
let foreignProductId: string;
beforeAll(async () => {
  h = await openHarness();
  productId = (await h.call('advertiser', { method: 'POST', url: '/v1/products', body: { name: 'Cola' } })).json().id;
  foreignProductId = (await h.call('otherAdvertiser', { method: 'POST', url: '/v1/products', body: { name: 'Fizz' } })).json().id;
});
afterAll(async () => {
  await h.close();
});

const base = { name: 'Launch', budget: '1500.00', start_date: '2026-01-01', end_date: '2026-02-01' };

describe(`campaigns on ${engine}`, () => {
  it('creates with its own advertiser, money as decimal strings, and records the event', async () => {
    const id = requestId();
    const res = await h.call('advertiser', {
      method: 'POST', url: '/v1/campaigns', headers: { 'x-request-id': id },
      body: { ...base, budget: '1500.5', status: 'active', product_ids: [productId], pricing: { model: 'cpc', rate: '0.125' }, rules: { max_per_video: 2 } },
    });
    expect(res.statusCode, res.body).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({
      advertiser_id: h.ids.advertiser, budget: '1500.50', spent: '0.00', currency: 'USD', status: 'active',
      pricing: { model: 'cpc', rate: '0.125' }, rules: { max_per_video: 2 }, product_ids: [productId], version: 1,
    });
    const event = await eventOf(h, 'campaign.created', c.id, id);
    expect(event.actor).toMatch(/^adv-/);
    expect(event.data).toMatchObject({ campaign_id: c.id, advertiser_id: h.ids.advertiser, budget: '1500.50', product_ids: [productId] });
  });

  it('refuses what breaks the rules, with field paths', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...base, end_date: '2026-01-01' }, 422, '/end_date'],
      [{ ...base, budget: 1500.5 }, 422, '/budget'], // money is a decimal string, never a JSON number
      [{ ...base, budget: '12.345' }, 422, '/budget'],
      [{ ...base, budget: '-1.00' }, 422, '/budget'],
      [{ ...base, spent: '10.00' }, 422, '/spent'],
      [{ ...base, status: 'active' }, 422, '/product_ids'],
      [{ ...base, product_ids: [foreignProductId] }, 422, '/product_ids/0'],
      [{ ...base, advertiser_id: h.ids.otherAdvertiser }, 422, '/advertiser_id'],
      [{ ...base, pricing: { model: 'cpa', rate: '1' } }, 422, '/pricing/model'],
      [{ ...base, currency: 'usd' }, 422, '/currency'],
      [{ ...base, version: 3 }, 422, '/version'],
    ];
    for (const [body, status, path] of cases) {
      const res = await h.call('advertiser', { method: 'POST', url: '/v1/campaigns', body });
      expect(res.statusCode, `${JSON.stringify(body)} ${res.body}`).toBe(status);
      if (status === 422) {
        expect(isProblem(res)).toBe(true);
        expect(res.json().errors.map((e: { path: string }) => e.path), JSON.stringify(body)).toContain(path);
      }
    }
  });

  it('patches products, status and budget; a budget below spent is a 409', async () => {
    const c = (await h.call('advertiser', { method: 'POST', url: '/v1/campaigns', body: base })).json();
    const activate = await h.call('advertiser', { method: 'PATCH', url: `/v1/campaigns/${c.id}`, body: { status: 'active' }, headers: { 'if-match': '"1"' } });
    expect(activate.statusCode).toBe(422);
    const id = requestId();
    const ok = await h.call('advertiser', {
      method: 'PATCH', url: `/v1/campaigns/${c.id}`, body: { status: 'active', product_ids: [productId] }, headers: { 'if-match': '"1"', 'x-request-id': id },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'active', product_ids: [productId], version: 2 });
    const updated = await eventOf(h, 'campaign.updated', c.id, id);
    expect(updated.actor).toMatch(/^adv-/);
    expect(updated.data).toMatchObject({ changes: { status: 'active', product_ids: [productId] }, new_version: 2 });

    await h.database.db.updateTable('campaigns').set({ spent: '100.00' }).where('id', '=', c.id).execute();
    const below = await h.call('advertiser', { method: 'PATCH', url: `/v1/campaigns/${c.id}`, body: { budget: '50.00' }, headers: { 'if-match': '"2"' } });
    expect(below.statusCode).toBe(409);
    expect(below.json().code).toBe('CAMPAIGN.BUDGET_EXCEEDED');
    const spent = await h.call('advertiser', { method: 'PATCH', url: `/v1/campaigns/${c.id}`, body: { spent: '0.00' }, headers: { 'if-match': '"2"' } });
    expect(spent.statusCode).toBe(422);
    expect((await h.call('advertiser', { url: `/v1/campaigns/${c.id}` })).json()).toMatchObject({ budget: '1500.00', spent: '100.00', version: 2 });

    const filtered = await h.call('advertiser', { url: `/v1/campaigns?product_id=${productId}&status=active` });
    expect(filtered.json().items.map((i: { id: string }) => i.id)).toContain(c.id);

    const delId = requestId();
    const del = await h.call('advertiser', { method: 'DELETE', url: `/v1/campaigns/${c.id}`, headers: { 'if-match': '"2"', 'x-request-id': delId } });
    expect(del.statusCode).toBe(204);
    const deleted = await eventOf(h, 'campaign.deleted', c.id, delId);
    expect(deleted.actor).toBe(updated.actor);
    expect(deleted.data).toMatchObject({ campaign_id: c.id, version: 3 });
    expect((await h.call('advertiser', { url: `/v1/campaigns/${c.id}` })).statusCode).toBe(404);
  });

  it('lets an admin create for any advertiser, and requires advertiser_id from it', async () => {
    const missing = await h.call('admin', { method: 'POST', url: '/v1/campaigns', body: base });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toContainEqual({ path: '/advertiser_id', message: 'is required' });
    const res = await h.call('admin', { method: 'POST', url: '/v1/campaigns', body: { ...base, advertiser_id: h.ids.otherAdvertiser, product_ids: [foreignProductId] } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().advertiser_id).toBe(h.ids.otherAdvertiser);
  });
});
