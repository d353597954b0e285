/**
 * POST /v1/events and ingest keys: each event checked on its own, durable before the
 * 202, deduplicated by id; keys shown once, hashed, scoped to their creator, revocable,
 * rate limited; every bad input a problem+json that changes nothing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/entry/app.js';
import { loadConfig } from '../../../src/platform/config/config.js';
import { engine } from '../../support/engine.js';
import { isProblem, openHarness, seedCatalog, type Harness } from '../../http/catalog/support.js';
import { ago, newKey, playback, postEvents } from './support.js';

let h: Harness;
let mine: Awaited<ReturnType<typeof seedCatalog>>;
let theirs: Awaited<ReturnType<typeof seedCatalog>>;
let key: { id: string; key: string };
beforeAll(async () => {
  h = await openHarness();
  mine = await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' });
  theirs = await seedCatalog(h, { advertiser: 'otherAdvertiser', creator: 'otherCreator' });
  key = await newKey(h);
});
afterAll(async () => {
  await h.close();
});

const count = async (table: 'ingest_event_ids' | 'playback_events' | 'ingest_batches') =>
  Number((await h.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

describe(`ingest keys (${engine})`, () => {
  it('shows a key once, stores only its hash, lists and revokes it', async () => {
    const created = await newKey(h);
    expect(created.key).toMatch(/^nlk_[A-Za-z0-9_-]{43}$/);
    const row = await h.database.db.selectFrom('ingest_keys').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(createHash('sha256').update(created.key).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(created.key);

    const list = await h.call('creator', { method: 'GET', url: '/v1/ingest-keys' });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(created.key);
    expect(list.json().items.map((k: { id: string }) => k.id)).toContain(created.id);
    expect((await h.call('otherCreator', { method: 'GET', url: '/v1/ingest-keys' })).json().items.map((k: { id: string }) => k.id)).not.toContain(created.id);

    expect((await postEvents(h, created.key, playback(mine))).statusCode).toBe(202);
    expect((await h.call('otherCreator', { method: 'DELETE', url: `/v1/ingest-keys/${created.id}` })).statusCode).toBe(404);
    const revoked = await h.call('creator', { method: 'DELETE', url: `/v1/ingest-keys/${created.id}` });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revoked_at).not.toBeNull();
    const before = await count('ingest_event_ids');
    const refused = await postEvents(h, created.key, playback(mine));
    expect(refused.statusCode).toBe(401);
    expect(isProblem(refused)).toBe(true);
    expect(refused.json().code).toBe('AUTH.INVALID_INGEST_KEY');
    expect(await count('ingest_event_ids')).toBe(before);
  });

  it('lets creators and admins (for a named creator) make keys, nobody else', async () => {
    expect((await h.call('advertiser', { method: 'POST', url: '/v1/ingest-keys', body: {} })).statusCode).toBe(403);
    expect((await h.call('admin', { method: 'POST', url: '/v1/ingest-keys', body: {} })).statusCode).toBe(422);
    const forCreator = await h.call('admin', { method: 'POST', url: '/v1/ingest-keys', body: { creator_id: h.ids.creator } });
    expect(forCreator.statusCode).toBe(201);
    expect(forCreator.json().creator_id).toBe(h.ids.creator);
  });
});

describe(`POST /v1/events (${engine})`, () => {
  it('stores an event durably before the 202 and counts a resent id once, however late', async () => {
    const event = playback(mine, 'impression', { session_id: 's-1', properties: { player: 'web' } });
    const first = await postEvents(h, key.key, event);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    // Committed: visible from another query right after the answer.
    const raw = await h.database.db.selectFrom('playback_events').selectAll().where('event_id', '=', event.id).execute();
    expect(raw).toHaveLength(1);
    expect(raw[0]?.product_id).toBe(mine.productId);
    // Waiting for the matcher in its batch, which the outbox announces (v3: the batch and its size).
    const batches = await h.database.db.selectFrom('ingest_batches').select(['batch_id', 'events', 'payload']).execute();
    const batch = batches.find((b) => JSON.stringify(b.payload).includes(event.id));
    expect(batch?.events).toBe(1);
    const outbox = await h.database.db.selectFrom('event_log').select(['data', 'metadata']).where('event_type', '=', 'com.nedlia.playback.events_accepted').execute();
    expect(outbox.map((r) => r.data)).toContainEqual({ batch_id: batch?.batch_id, count: 1 });
    expect(outbox.find((r) => (r.data as { batch_id: string }).batch_id === batch?.batch_id)?.metadata).toMatchObject({ schemaversion: 3 });

    const again = await postEvents(h, key.key, { events: [event, { ...event, occurred_at: ago(3_600_000) }] });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ accepted: 0, duplicates: 2, rejected: [] });
    expect(await h.database.db.selectFrom('playback_events').select('event_id').where('event_id', '=', event.id).execute()).toHaveLength(1);
  });

  it('checks each event of a batch on its own and lists the rejected ones with their index and reasons', async () => {
    const good = playback(mine, 'click');
    const id = randomUUID();
    const batch = [
      good,
      { ...playback(mine), type: 'hover' },
      { ...playback(mine), colour: 'red' },
      playback(theirs),
      { ...playback(mine), placement_id: randomUUID() },
      { ...playback(mine), occurred_at: new Date(Date.now() + 3_600_000).toISOString() },
      { ...playback(mine), occurred_at: ago(31 * 86_400_000) },
      { ...playback(mine), video_id: theirs.videoId },
      { ...playback(mine), id, placement_id: 12 },
      'not an object',
    ];
    const res = await postEvents(h, key.key, { events: batch });
    expect(res.statusCode).toBe(202);
    const body = res.json() as { accepted: number; duplicates: number; rejected: { index: number; errors: { path: string; message: string }[] }[] };
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const paths = Object.fromEntries(body.rejected.map((r) => [r.index, r.errors.map((e) => e.path)]));
    expect(paths[1]).toEqual(['/type']);
    expect(paths[2]).toEqual(['/colour']);
    expect(paths[3]).toEqual(['/placement_id']);
    expect(paths[4]).toEqual(['/placement_id']);
    expect(paths[5]).toEqual(['/occurred_at']);
    expect(paths[6]).toEqual(['/occurred_at']);
    expect(paths[7]).toEqual(['/video_id']);
    expect(paths[8]).toEqual(['/placement_id']);
    for (const r of body.rejected) for (const e of r.errors) expect(e.message.length).toBeGreaterThan(5);
    expect(await h.database.db.selectFrom('ingest_event_ids').select('event_id').where('event_id', '=', id).execute()).toHaveLength(0);
  });

  it('refuses placements that are not active', async () => {
    const res = await h.call('creator', { method: 'PATCH', url: `/v1/placements/${mine.placementId}`, headers: { 'if-match': '*' }, body: { status: 'archived' } });
    expect(res.statusCode).toBe(200);
    // A fresh app: no cached view of the placement.
    const app = await buildApp({ config: loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0' }), database: h.database, logger: pino({ level: 'silent' }), verifyToken: h.verifyToken });
    try {
      const refused = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json', 'x-nedlia-key': key.key }, payload: JSON.stringify(playback(mine)) });
      expect(refused.statusCode).toBe(422);
      expect(refused.json().errors).toEqual([{ path: '/placement_id', message: expect.stringContaining('not active') }]);
    } finally {
      await app.close();
      await h.call('creator', { method: 'PATCH', url: `/v1/placements/${mine.placementId}`, headers: { 'if-match': '*' }, body: { status: 'active' } });
    }
  });

  it('answers every bad request with a problem and changes nothing', async () => {
    const before = await Promise.all([count('ingest_event_ids'), count('playback_events'), count('ingest_batches')]);
    const raw = (payload: string, headers: Record<string, string> = {}) =>
      h.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json', 'x-nedlia-key': key.key, ...headers }, payload });
    const cases: [string, Promise<{ statusCode: number; headers: Record<string, unknown>; json(): { code?: string } }>, number][] = [
      ['malformed JSON', raw('{"id": '), 400],
      ['1001 events', postEvents(h, key.key, { events: Array.from({ length: 1001 }, () => playback(mine)) }), 422],
      ['an empty batch', postEvents(h, key.key, { events: [] }), 422],
      ['a batch with other fields', postEvents(h, key.key, { events: [playback(mine)], extra: 1 }), 422],
      ['an array', postEvents(h, key.key, [playback(mine)]), 422],
      ['a 10 MB body', raw(JSON.stringify({ events: [playback(mine, 'impression', { properties: { x: 'y'.repeat(10 * 1024 * 1024) } })] })), 413],
      ['wrong types', postEvents(h, key.key, { ...playback(mine), occurred_at: 12, session_id: true }), 422],
      ['an unknown field', postEvents(h, key.key, { ...playback(mine), extra: 'x' }), 422],
      ['big properties', postEvents(h, key.key, playback(mine, 'impression', { properties: { x: 'y'.repeat(5000) } })), 422],
      ['text/plain', raw(JSON.stringify(playback(mine)), { 'content-type': 'text/plain' }), 415],
      ['an unknown key', postEvents(h, `nlk_${'A'.repeat(43)}`, playback(mine)), 401],
      ['a malformed key', postEvents(h, 'hello', playback(mine)), 401],
      ['no credentials', h.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(playback(mine)) }), 401],
      ['a creator token', h.call('creator', { method: 'POST', url: '/v1/events', body: playback(mine) }), 403],
      ['another creator’s placement', postEvents(h, key.key, playback(theirs)), 422],
    ];
    for (const [what, response, status] of cases) {
      const res = await response;
      expect({ what, status: res.statusCode }).toEqual({ what, status });
      expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
    }
    expect(await Promise.all([count('ingest_event_ids'), count('playback_events'), count('ingest_batches')])).toEqual(before);
  });

  it('accepts an admin token for any video', async () => {
    const res = await h.call('admin', { method: 'POST', url: '/v1/events', body: { events: [playback(mine), playback(theirs)] } });
    expect(res.statusCode).toBe(202);
    expect(res.json().accepted).toBe(2);
  });

  it('lets the SDK post from any origin (CORS preflight and answer)', async () => {
    const preflight = await h.app.inject({ method: 'OPTIONS', url: '/v1/events', headers: { origin: 'https://viewer.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-nedlia-key' } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(String(preflight.headers['access-control-allow-headers'])).toContain('x-nedlia-key');
    const res = await postEvents(h, key.key, playback(mine), { origin: 'https://viewer.example' });
    expect(res.statusCode).toBe(202);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    const refused = await postEvents(h, 'nope', playback(mine), { origin: 'https://viewer.example' });
    expect(refused.headers['access-control-allow-origin']).toBe('*');
  });

  it('limits the requests of one key', async () => {
    const app = await buildApp({ config: loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0', INGEST_KEY_RATE_LIMIT_MAX: '3' }), database: h.database, logger: pino({ level: 'silent' }), verifyToken: h.verifyToken });
    try {
      const send = () => app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json', 'x-nedlia-key': key.key }, payload: JSON.stringify(playback(mine)) });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await send()).statusCode);
      expect(statuses).toEqual([202, 202, 202, 429, 429]);
      const limited = await send();
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.json().code).toBe('REQUEST.RATE_LIMITED');
    } finally {
      await app.close();
    }
  });

  it('shares commits between concurrent requests and answers each with its own counts', async () => {
    const events = Array.from({ length: 60 }, () => playback(mine));
    const answers = await Promise.all(events.map((e, i) => postEvents(h, key.key, i % 3 === 0 ? { events: [e, events[(i + 1) % 60]] } : e)));
    for (const a of answers) expect(a.statusCode).toBe(202);
    const totals = answers.reduce((t, a) => ({ accepted: t.accepted + a.json().accepted, duplicates: t.duplicates + a.json().duplicates }), { accepted: 0, duplicates: 0 });
    expect(totals.accepted).toBe(60);
    expect(totals.accepted + totals.duplicates).toBe(60 + 20);
    const stored = await h.database.db.selectFrom('playback_events').select('event_id').where('event_id', 'in', events.map((e) => e.id)).execute();
    expect(stored).toHaveLength(60);
  });
});
