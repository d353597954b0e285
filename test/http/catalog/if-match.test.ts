/** `If-Match` as RFC 9110 says: `*` is any current version; a malformed header says how to send it. */
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

describe(`If-Match on ${engine}`, () => {
  it('takes If-Match: * as any current version', async () => {
    const product = await newProduct(h);
    const patched = await h.call('advertiser', { method: 'PATCH', url: `/v1/products/${product.id}`, headers: { 'if-match': '*' }, body: { name: 'Mate' } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().version).toBe(product.version + 1);
    const deleted = await h.call('advertiser', { method: 'DELETE', url: `/v1/products/${product.id}`, headers: { 'if-match': '*' } });
    expect(deleted.statusCode, deleted.body).toBe(204);
    const gone = await h.call('advertiser', { method: 'DELETE', url: `/v1/products/${product.id}`, headers: { 'if-match': '*' } });
    expect(gone.statusCode).toBe(404);
  });

  it('answers an unquoted or malformed If-Match with a 400 that says how to send it', async () => {
    const product = await newProduct(h);
    const unquoted = await h.call('advertiser', { method: 'PATCH', url: `/v1/products/${product.id}`, headers: { 'if-match': String(product.version) }, body: { name: 'x' } });
    expect(unquoted.statusCode).toBe(400);
    expect(isProblem(unquoted)).toBe(true);
    expect(unquoted.json()).toMatchObject({ code: 'REQUEST.IF_MATCH_MALFORMED' });
    expect(unquoted.json().detail).toContain(`If-Match: "${product.version}"`);
    for (const header of ['"1', 'W/1', '"1" "2"', 'version 1']) {
      const res = await h.call('advertiser', { method: 'DELETE', url: `/v1/products/${product.id}`, headers: { 'if-match': header } });
      expect(res.statusCode, header).toBe(400);
      expect(res.json().detail).toContain('If-Match: "');
    }
    // A well-formed ETag that is not the row's is a mismatch, not a malformed header.
    const stale = await h.call('advertiser', { method: 'DELETE', url: `/v1/products/${product.id}`, headers: { 'if-match': '"opaque"' } });
    expect(stale.statusCode).toBe(412);
    const still = await h.call('advertiser', { url: `/v1/products/${product.id}` });
    expect(still.json().version).toBe(product.version);
  });
});
