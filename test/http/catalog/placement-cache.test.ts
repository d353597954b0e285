/**
 * GET /v1/placements/{id} is served from the read cache: the caller always sees its
 * own changes at once, changes made elsewhere (another API process, a worker, SQL)
 * once the database announces them, and tenancy is decided per request as before.
 */
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config/config.js';
import { Metrics } from '../../../src/platform/metrics/metrics.js';
import { buildApp, type App } from '../../../src/entry/app.js';
import { engine } from '../../support/engine.js';
import { openHarness, seedCatalog, type Harness } from './support.js';

let h: Harness;
let seed: Awaited<ReturnType<typeof seedCatalog>>;
/** Another API process over the same database, with its own cache (or none). */
const otherApp = (env: Record<string, string> = {}, metrics?: Metrics): Promise<App> =>
  buildApp({
    config: loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0', ...env }),
    database: h.database,
    logger: pino({ level: 'silent' }),
    verifyToken: h.verifyToken,
    ...(metrics ? { events: { metrics } } : {}),
  });

beforeAll(async () => {
  h = await openHarness();
  seed = await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' });
});
afterAll(async () => {
  await h.close();
});

const get = (app: App, id: string, who: 'creator' | 'otherCreator' | 'advertiser' | 'otherAdvertiser' = 'creator') =>
  app.inject({ url: `/v1/placements/${id}`, headers: { authorization: `Bearer ${h.tokens[who]}` } });

/** GETs through `app` until `check` holds on the response (bounded). */
async function getUntil(app: App, id: string, check: (res: Awaited<ReturnType<typeof get>>) => boolean): Promise<Awaited<ReturnType<typeof get>>> {
  const until = Date.now() + 10_000;
  for (;;) {
    const res = await get(app, id);
    if (check(res)) return res;
    if (Date.now() > until) throw new Error(`GET ${id} never met the condition; last: ${res.statusCode} ${res.body}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const newPlacement = async (): Promise<string> => {
  const res = await h.call('creator', { method: 'POST', url: '/v1/placements', body: { video_id: seed.videoId, product_id: seed.productId, start_time: 1, end_time: 2 } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
};

describe(`placement read cache on ${engine}`, () => {
  it("shows the caller's own change and deletion on the very next read", async () => {
    const id = await newPlacement();
    for (let i = 0; i < 2; i++) expect((await get(h.app, id)).headers.etag).toBe('"1"');
    const patched = await h.call('creator', { method: 'PATCH', url: `/v1/placements/${id}`, headers: { 'if-match': '"1"' }, body: { description: 'moved' } });
    expect(patched.statusCode, patched.body).toBe(200);
    const read = await get(h.app, id);
    expect(read.headers.etag).toBe('"2"');
    expect(read.json()).toMatchObject({ description: 'moved', version: 2 });

    expect((await h.call('creator', { method: 'DELETE', url: `/v1/placements/${id}`, headers: { 'if-match': '"2"' } })).statusCode).toBe(204);
    expect((await get(h.app, id)).statusCode).toBe(404);
  });

  it('shows a change made outside the API once the database announces it', async () => {
    const id = await newPlacement();
    expect((await get(h.app, id)).json().description).toBeNull();
    await h.database.db
      .updateTable('placements')
      .set((eb) => ({ description: 'set by hand', version: eb('version', '+', 1) }))
      .where('id', '=', id)
      .execute();
    const read = await getUntil(h.app, id, (res) => res.headers.etag === '"2"');
    expect(read.json().description).toBe('set by hand');
  });

  it('shows a change made through another API process', async () => {
    const other = await otherApp();
    try {
      const id = await newPlacement();
      expect((await get(h.app, id)).headers.etag).toBe('"1"');
      expect((await get(other, id)).headers.etag).toBe('"1"');
      const patched = await other.inject({
        method: 'PATCH', url: `/v1/placements/${id}`,
        headers: { authorization: `Bearer ${h.tokens.creator}`, 'if-match': '"1"', 'content-type': 'application/json' },
        payload: JSON.stringify({ status: 'archived' }),
      });
      expect(patched.statusCode, patched.body).toBe(200);
      expect((await get(other, id)).json().status).toBe('archived');
      const read = await getUntil(h.app, id, (res) => res.headers.etag === '"2"');
      expect(read.json().status).toBe('archived');
    } finally {
      await other.close();
    }
  });

  it('decides who may see a cached placement on every request', async () => {
    const id = await newPlacement();
    expect((await get(h.app, id, 'creator')).statusCode).toBe(200);
    expect((await get(h.app, id, 'advertiser')).statusCode).toBe(200);
    for (const stranger of ['otherCreator', 'otherAdvertiser'] as const) {
      const res = await get(h.app, id, stranger);
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain(seed.videoId);
    }
  });

  it('READ_CACHE_SIZE=0 reads the database every time', async () => {
    const uncached = await otherApp({ READ_CACHE_SIZE: '0' });
    try {
      const id = await newPlacement();
      for (const app of [h.app, uncached]) expect((await get(app, id)).headers.etag).toBe('"1"');
      // A change that announces nothing (triggers off for this transaction only): the
      // cached app keeps its row, the uncached one reads the change at once.
      await h.database.db.transaction().execute(async (tx) => {
        await sql`SET LOCAL session_replication_role = replica`.execute(tx);
        await tx.updateTable('placements').set((eb) => ({ version: eb('version', '+', 1) })).where('id', '=', id).execute();
      });
      expect((await get(h.app, id)).headers.etag).toBe('"1"');
      expect((await get(uncached, id)).headers.etag).toBe('"2"');
    } finally {
      await uncached.close();
    }
  });

  it('reports its hits, misses, rows and state on /metrics', async () => {
    const app = await otherApp({}, new Metrics());
    try {
      const id = await newPlacement();
      for (let i = 0; i < 3; i++) expect((await get(app, id)).statusCode).toBe(200);
      const text = (await app.inject({ url: '/metrics' })).body;
      expect(text).toContain('nedlia_read_cache_hits_total{cache="placements"} 2');
      expect(text).toContain('nedlia_read_cache_misses_total{cache="placements"} 1');
      expect(text).toContain('nedlia_read_cache_rows{cache="placements"} 1');
      expect(text).toContain('nedlia_read_cache_live{cache="placements"} 1');
    } finally {
      await app.close();
    }
  });
});
