/** Optimistic locking under contention, and Idempotency-Key on POST. */
import { randomUUID } from 'node:crypto';
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

const countPlacements = async (description: string) =>
  (await h.database.db.selectFrom('placements').select('id').where('description', '=', description).execute()).length;

const postPlacement = (description: string, key: string, who: 'creator' | 'admin' = 'creator', extra: object = {}) =>
  h.call(who, {
    method: 'POST', url: '/v1/placements', headers: { 'idempotency-key': key },
    body: { video_id: seed.videoId, product_id: seed.productId, start_time: 1, end_time: 2, description, ...extra },
  });

describe(`optimistic locking on ${engine}`, () => {
  it('lets exactly one of 50 concurrent PATCHes with the same ETag win; the rest get 412', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        h.call('creator', { method: 'PATCH', url: `/v1/placements/${seed.placementId}`, body: { description: `writer ${i}` }, headers: { 'if-match': '"1"' } }),
      ),
    );
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(49);
    expect(results.filter((r) => r.statusCode === 412).every(isProblem)).toBe(true);
    const winner = results.find((r) => r.statusCode === 200)!.json();
    const row = await h.database.db.selectFrom('placements').selectAll().where('id', '=', seed.placementId).executeTakeFirstOrThrow();
    expect(row.version).toBe(2);
    expect(row.description).toBe(winner.description);
    const events = await h.database.db.selectFrom('event_log').select('id').where('event_type', '=', 'com.nedlia.placement.updated').where('aggregate_id', '=', seed.placementId).execute();
    expect(events).toHaveLength(1);
  });
});

describe(`Idempotency-Key on ${engine}`, () => {
  it('replays the first response (same status and body) and creates once', async () => {
    const key = randomUUID();
    const first = await postPlacement('replayed', key);
    expect(first.statusCode, first.body).toBe(201);
    const again = await postPlacement('replayed', key);
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await countPlacements('replayed')).toBe(1);
    // Replays of an error too (a 4xx is a response like any other).
    const badKey = randomUUID();
    const bad = await postPlacement('replayed-error', badKey, 'creator', { end_time: 999 });
    expect(bad.statusCode).toBe(422);
    const badAgain = await postPlacement('replayed-error', badKey, 'creator', { end_time: 999 });
    expect([badAgain.statusCode, badAgain.body]).toEqual([422, bad.body]);
  });

  it('answers 422 to the same key with a different body, and creates nothing', async () => {
    const key = randomUUID();
    expect((await postPlacement('original', key)).statusCode).toBe(201);
    const other = await postPlacement('changed', key);
    expect(other.statusCode).toBe(422);
    expect(isProblem(other)).toBe(true);
    expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY.KEY_REUSED', errors: [{ path: '/headers/idempotency-key' }] });
    expect(await countPlacements('changed')).toBe(0);
  });

  it('answers 409 while the first request with the key is still running', async () => {
    const key = randomUUID();
    expect((await postPlacement('in-flight', key)).statusCode).toBe(201);
    // Put the key back to "claimed, not finished", as while its first request runs.
    await h.database.db.updateTable('idempotency_keys').set({ status: null, response_body: null }).where('key', '=', key).execute();
    const during = await postPlacement('in-flight', key);
    expect(during.statusCode).toBe(409);
    expect(during.json().code).toBe('IDEMPOTENCY.IN_PROGRESS');
    expect(await countPlacements('in-flight')).toBe(1);
  });

  it('creates once under a burst of concurrent duplicates', async () => {
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 20 }, () => postPlacement('burst', key)));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.every((s) => s === 201 || s === 409), statuses.join(',')).toBe(true);
    expect(new Set(results.filter((r) => r.statusCode === 201).map((r) => r.body)).size).toBe(1);
    expect(await countPlacements('burst')).toBe(1);
  });

  it('keeps keys per caller and lets an expired key be used again', async () => {
    const key = randomUUID();
    expect((await postPlacement('per-caller', key)).statusCode).toBe(201);
    expect((await postPlacement('per-caller', key, 'admin')).statusCode).toBe(201);
    expect(await countPlacements('per-caller')).toBe(2);
    await h.database.db.updateTable('idempotency_keys').set({ expires_at: new Date(Date.now() - 1000) }).where('key', '=', key).execute();
    expect((await postPlacement('per-caller', key)).headers['idempotent-replayed']).toBeUndefined();
    expect(await countPlacements('per-caller')).toBe(3);
    const invalid = await postPlacement('bad-key', 'has spaces in it');
    expect(invalid.statusCode).toBe(422);
  });
});
