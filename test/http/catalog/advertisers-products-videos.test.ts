/** Advertisers, products and videos over HTTP: CRUD, validation, the video owner's user row, events. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { eventOf, isProblem, openHarness, requestId, type Harness } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h.close();
});

/** Create → read → patch → stale patch → delete, checking ETags and the three events. */
async function lifecycle(who: 'admin' | 'advertiser' | 'creator', resource: string, body: object, patch: object, eventName: string) {
  const createId = requestId();
  const created = await h.call(who, { method: 'POST', url: `/v1/${resource}`, body, headers: { 'x-request-id': createId } });
  expect(created.statusCode, created.body).toBe(201);
  const row = created.json();
  expect(created.headers.etag).toBe('"1"');
  const createdEvent = await eventOf(h, `${eventName}.created`, row.id, createId);
  const read = await h.call(who, { url: `/v1/${resource}/${row.id}` });
  expect(read.statusCode).toBe(200);
  expect(read.json()).toEqual(row);
  const patchId = requestId();
  const patched = await h.call(who, { method: 'PATCH', url: `/v1/${resource}/${row.id}`, body: patch, headers: { 'if-match': '"1"', 'x-request-id': patchId } });
  expect(patched.statusCode, patched.body).toBe(200);
  expect(patched.json()).toMatchObject({ ...patch, version: 2 });
  const updatedEvent = await eventOf(h, `${eventName}.updated`, row.id, patchId);
  expect(updatedEvent.data).toMatchObject({ changes: patch, previous_version: 1, new_version: 2 });
  expect((await h.call(who, { method: 'PATCH', url: `/v1/${resource}/${row.id}`, body: patch, headers: { 'if-match': '"1"' } })).statusCode).toBe(412);
  expect((await h.call(who, { method: 'DELETE', url: `/v1/${resource}/${row.id}` })).statusCode).toBe(428);
  const deleteId = requestId();
  const deleted = await h.call(who, { method: 'DELETE', url: `/v1/${resource}/${row.id}`, headers: { 'if-match': '"2"', 'x-request-id': deleteId } });
  expect(deleted.statusCode).toBe(204);
  const event = await eventOf(h, `${eventName}.deleted`, row.id, deleteId);
  expect(event.data).toMatchObject({ version: 3 });
  // The same caller is recorded as the actor of all three events.
  expect(event.actor).not.toBeNull();
  expect([createdEvent.actor, updatedEvent.actor]).toEqual([event.actor, event.actor]);
  expect((await h.call(who, { url: `/v1/${resource}/${row.id}` })).statusCode).toBe(404);
  const list = await h.call(who, { url: `/v1/${resource}?limit=200` });
  expect(list.json().items.map((i: { id: string }) => i.id)).not.toContain(row.id);
  return { row, actor: event.actor };
}

describe(`advertisers, products, videos on ${engine}`, () => {
  it('advertisers: admin lifecycle; the advertiser reads only its own row', async () => {
    const { actor } = await lifecycle('admin', 'advertisers', { name: 'Initech', contact_email: 'ads@initech.test' }, { status: 'suspended' }, 'advertiser');
    expect(actor).toBe(h.ids.admin);
    const own = await h.call('advertiser', { url: '/v1/advertisers' });
    expect(own.json().items.map((i: { id: string }) => i.id)).toEqual([h.ids.advertiser]);
    const bad = await h.call('admin', { method: 'POST', url: '/v1/advertisers', body: { name: '', contact_email: 'nope', extra: 1 } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors.map((e: { path: string }) => e.path).sort()).toEqual(['/contact_email', '/extra', '/name']);
  });

  it('products: advertiser lifecycle; creators see products of active advertisers only', async () => {
    const { actor } = await lifecycle('advertiser', 'products', { name: 'Cola', assets: [{ url: 'https://cdn.test/cola.png' }] }, { category: 'drinks' }, 'product');
    expect(actor).toMatch(/^adv-/);
    const keep = (await h.call('otherAdvertiser', { method: 'POST', url: '/v1/products', body: { name: 'Fizz' } })).json();
    expect((await h.call('creator', { url: `/v1/products/${keep.id}` })).statusCode).toBe(200);
    await h.database.db.updateTable('advertisers').set({ status: 'suspended' }).where('id', '=', h.ids.otherAdvertiser).execute();
    expect((await h.call('creator', { url: `/v1/products/${keep.id}` })).statusCode).toBe(404);
    expect((await h.call('creator', { url: '/v1/products?limit=200' })).json().items.map((i: { id: string }) => i.id)).not.toContain(keep.id);
    await h.database.db.updateTable('advertisers').set({ status: 'active' }).where('id', '=', h.ids.otherAdvertiser).execute();
    const write = await h.call('creator', { method: 'PATCH', url: `/v1/products/${keep.id}`, body: { name: 'x' }, headers: { 'if-match': '"1"' } });
    expect(write.statusCode).toBe(403);
  });

  it('videos: creator lifecycle; the owner is the caller and has a users row', async () => {
    const { row, actor } = await lifecycle('creator', 'videos', { title: 'Vlog', duration: 61.25, metadata: { lang: 'en' } }, { title: 'Vlog 2', status: 'ready' }, 'video');
    expect(row).toMatchObject({ owner_id: h.ids.creator, duration: 61.25, metadata: { lang: 'en' }, status: 'processing' });
    expect(actor).toBe(h.ids.creator);
    const user = await h.database.db.selectFrom('users').selectAll().where('id', '=', h.ids.creator).executeTakeFirst();
    expect(user?.id).toBe(h.ids.creator);
    for (const [body, path] of [
      [{ title: 'x', duration: 0 }, '/duration'],
      [{ title: 'x', duration: 10, owner_id: 'someone' }, '/owner_id'],
      [{ title: 'x', duration: 10, source_url: 'not a url' }, '/source_url'],
      [{ title: 'x', duration: 10, status: 'gone' }, '/status'],
    ] as const) {
      const res = await h.call('creator', { method: 'POST', url: '/v1/videos', body });
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(isProblem(res)).toBe(true);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
  });
});
