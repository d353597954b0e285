/** Request bodies: only JSON (415 otherwise), merge-patch on PATCH, and no body where a route takes none. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { isProblem, newProduct, openHarness, type Harness } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h.close();
});

describe(`request content types on ${engine}`, () => {
  it('refuses a body of another content type with 415, naming what to send', async () => {
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const res = await h.call('advertiser', { method: 'POST', url: '/v1/products', headers: { 'content-type': type }, payload: 'name=Tea' });
      expect(res.statusCode, type).toBe(415);
      expect(isProblem(res)).toBe(true);
      expect(res.json()).toMatchObject({ status: 415, code: 'REQUEST.CONTENT_TYPE' });
      expect(res.json().detail).toContain('application/json');
    }
    const mergePatchOnPost = await h.call('advertiser', {
      method: 'POST', url: '/v1/products', headers: { 'content-type': 'application/merge-patch+json' }, payload: '{"name":"Tea"}',
    });
    expect(mergePatchOnPost.statusCode).toBe(415);
  });

  it('accepts application/merge-patch+json on PATCH', async () => {
    const product = await newProduct(h);
    const res = await h.call('advertiser', {
      method: 'PATCH', url: `/v1/products/${product.id}`,
      headers: { 'content-type': 'application/merge-patch+json', 'if-match': `"${product.version}"` }, payload: '{"name":"Green tea"}',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Green tea', version: product.version + 1 });
  });

  it('accepts a DELETE with a JSON content type and no body', async () => {
    const product = await newProduct(h);
    const res = await h.call('advertiser', {
      method: 'DELETE', url: `/v1/products/${product.id}`, headers: { 'content-type': 'application/json', 'if-match': `"${product.version}"` },
    });
    expect(res.statusCode, res.body).toBe(204);
    const create = await h.call('advertiser', { method: 'POST', url: '/v1/products', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(create.statusCode).toBe(400);
    expect(create.json()).toMatchObject({ code: 'REQUEST.MALFORMED_JSON' });
  });
});
