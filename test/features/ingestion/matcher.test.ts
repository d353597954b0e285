/**
 * The campaign matcher through the real pipeline (outbox → relay → postgres bus →
 * consumer): exact CPM/CPC/flat spend, the deterministic choice, the budget guard with
 * the over-budget part not charged, completion and budget_exhausted, the daily cap in
 * the advertiser's time zone, the frequency cap, the stats projection and the lag.
 */
import { randomUUID } from 'node:crypto';
import { Metrics } from '../../../src/platform/metrics/metrics.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/entry/app.js';
import { loadConfig } from '../../../src/platform/config/config.js';
import { engine } from '../../support/engine.js';
import { openHarness, type Harness } from '../../http/catalog/support.js';
import { drained, newKey, playback, postEvents, startPipeline } from './support.js';

let h: Harness;
let pipeline: { stop(): Promise<void> };
let key: string;
beforeAll(async () => {
  h = await openHarness();
  key = (await newKey(h)).key;
  pipeline = await startPipeline(h);
});
afterAll(async () => {
  await pipeline?.stop();
  await h?.close();
});

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

/** A product, a live placement of it in a new video of the creator, and campaigns for it. */
async function setup(campaigns: { budget: string; pricing: { model: 'cpm' | 'cpc' | 'flat'; rate: string }; rules?: Record<string, unknown>; start?: string; end?: string }[]) {
  const product = (await h.call('advertiser', { method: 'POST', url: '/v1/products', body: { name: `P-${randomUUID()}` } })).json().id as string;
  const ids: string[] = [];
  for (const c of campaigns) {
    const res = await h.call('advertiser', {
      method: 'POST', url: '/v1/campaigns',
      body: { name: 'C', budget: c.budget, start_date: c.start ?? day(-10), end_date: c.end ?? day(10), status: 'active', product_ids: [product], pricing: c.pricing, rules: c.rules ?? {} },
    });
    if (res.statusCode !== 201) throw new Error(res.body);
    ids.push(res.json().id);
  }
  const video = (await h.call('creator', { method: 'POST', url: '/v1/videos', body: { title: 'V', duration: 100, status: 'ready' } })).json().id as string;
  const placement = (await h.call('creator', { method: 'POST', url: '/v1/placements', body: { video_id: video, product_id: product, start_time: 1, end_time: 2 } })).json().id as string;
  return { campaigns: ids, where: { placementId: placement, videoId: video } };
}

async function send(events: unknown[]) {
  const res = await postEvents(h, key, { events });
  expect(res.statusCode).toBe(202);
  await drained(h);
  return res.json();
}

const campaign = async (id: string) => (await h.call('advertiser', { method: 'GET', url: `/v1/campaigns/${id}` })).json();
const stats = async (id: string) => (await h.call('advertiser', { method: 'GET', url: `/v1/campaigns/${id}/stats` })).json();
const precise = async (id: string) => (await h.database.db.selectFrom('campaigns').select((eb) => eb.cast<string>('spent_precise' as never, 'text').as('p')).where('id', '=', id).executeTakeFirstOrThrow()).p;

describe(`campaign matcher (${engine})`, () => {
  it('charges CPM impressions exactly, a fraction of a cent each, and keeps the stats with the spend', async () => {
    const { campaigns: [id], where } = await setup([{ budget: '100.00', pricing: { model: 'cpm', rate: '4.5' } }]);
    await send([...Array.from({ length: 7 }, () => playback(where)), playback(where, 'click'), playback(where, 'view_start')]);
    expect(Number(await precise(id!))).toBeCloseTo(0.0315, 10);
    const s = await stats(id!);
    expect(s).toMatchObject({ impressions: 7, clicks: 1, spent: '0.0315', budget: '100.00' });
    expect(s.by_day).toEqual([{ day: day(0), impressions: 7, clicks: 1, spent: '0.0315' }]);
    // The campaign shows spent in cents, truncated: never above what was really spent.
    expect((await campaign(id!)).spent).toBe('0.03');
  });

  it('charges CPC clicks, nothing for flat campaigns', async () => {
    const cpc = await setup([{ budget: '100.00', pricing: { model: 'cpc', rate: '0.35' } }]);
    await send([playback(cpc.where, 'click'), playback(cpc.where, 'click'), playback(cpc.where, 'impression')]);
    expect(await stats(cpc.campaigns[0]!)).toMatchObject({ impressions: 1, clicks: 2, spent: '0.70' });
    const flat = await setup([{ budget: '100.00', pricing: { model: 'flat', rate: '10' } }]);
    await send([playback(flat.where, 'click'), playback(flat.where)]);
    expect(await stats(flat.campaigns[0]!)).toMatchObject({ impressions: 1, clicks: 1, spent: '0.00' });
  });

  it('charges the oldest eligible campaign of the product, and the next one once it completes', async () => {
    const { campaigns: [first, second], where } = await setup([
      { budget: '1.00', pricing: { model: 'cpc', rate: '0.40' } },
      { budget: '10.00', pricing: { model: 'cpc', rate: '0.40' } },
    ]);
    await send([playback(where, 'click'), playback(where, 'click'), playback(where, 'click'), playback(where, 'click')]);
    // 0.40 + 0.40 + 0.20 (the part within the budget) to the first; the fourth goes to the second.
    expect((await stats(first!)).spent).toBe('1.00');
    expect((await stats(second!)).spent).toBe('0.40');
    const done = await campaign(first!);
    expect(done).toMatchObject({ status: 'completed', spent: '1.00', budget: '1.00' });
    const charges = await h.database.db.selectFrom('playback_charges').select(['amount', 'outcome']).where('campaign_id', '=', first!).execute();
    expect(charges.map((c) => [Number(c.amount), c.outcome]).sort()).toEqual([[0.2, 'partial'], [0.4, 'charged'], [0.4, 'charged']]);
    const exhausted = await h.database.db.selectFrom('event_log').select('data').where('event_type', '=', 'com.nedlia.campaign.budget_exhausted').where('aggregate_id', '=', first!).execute();
    expect(exhausted.map((e) => e.data)).toEqual([expect.objectContaining({ campaign_id: first, budget: '1.00', spent: '1.00' })]);
  });

  it('never passes the budget when nothing else takes the event', async () => {
    const { campaigns: [id], where } = await setup([{ budget: '0.01', pricing: { model: 'cpm', rate: '3.0' } }]);
    await send(Array.from({ length: 5 }, () => playback(where)));
    // 0.003 + 0.003 + 0.003 + 0.001, then no campaign is left.
    expect(await stats(id!)).toMatchObject({ impressions: 4, spent: '0.01' });
    expect(await precise(id!)).toBe('0.0100000');
    expect((await campaign(id!)).status).toBe('completed');
  });

  it("counts the daily cap in the advertiser's time zone", async () => {
    // Set through the API, as an advertiser's admin would.
    const setZone = async (zone: string) => {
      const current = await h.call('admin', { url: `/v1/advertisers/${h.ids.advertiser}` });
      const res = await h.call('admin', { method: 'PATCH', url: `/v1/advertisers/${h.ids.advertiser}`, body: { time_zone: zone }, headers: { 'if-match': `"${current.json().version}"` } });
      expect(res.statusCode, res.body).toBe(200);
    };
    await setZone('America/New_York');
    try {
      const { campaigns: [id], where } = await setup([{ budget: '10.00', pricing: { model: 'cpc', rate: '1.00' }, rules: { daily_budget: '1.00' } }]);
      // Two days ago at 04:30 and 05:30 UTC: 23:30 and 00:30 in New York (UTC-5 in winter, UTC-4 in summer: 00:30 and 01:30).
      const base = new Date(Date.now() - 2 * 86_400_000);
      const utc = (h: number, m: number) => new Date(Date.UTC(base.getUTCFullYear(), base.getUTCMonth(), base.getUTCDate(), h, m)).toISOString();
      const nyHour = Number(new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', hourCycle: 'h23' }).format(new Date(utc(4, 30))));
      // The hour at which New York's day changes, in UTC, for that date.
      const change = nyHour === 23 ? 5 : 4;
      const events = [
        playback(where, 'click', { occurred_at: utc(change - 1, 30) }),
        playback(where, 'click', { occurred_at: utc(change, 30) }),
        playback(where, 'click', { occurred_at: utc(change, 45) }),
      ];
      await send(events);
      const s = await stats(id!);
      // One click per New York day: the third is on the same local day as the second.
      expect(s.spent).toBe('2.00');
      expect(s.by_day.map((d: { spent: string }) => d.spent)).toEqual(['1.00', '1.00']);
      expect(s.clicks).toBe(2);
    } finally {
      await setZone('UTC');
    }
  });

  it('charges at most frequency_cap impressions per session and placement', async () => {
    const { campaigns: [id], where } = await setup([{ budget: '10.00', pricing: { model: 'cpm', rate: '10' }, rules: { frequency_cap: 2 } }]);
    await send([
      playback(where, 'impression', { session_id: 'a' }), playback(where, 'impression', { session_id: 'a' }), playback(where, 'impression', { session_id: 'a' }),
      playback(where, 'impression', { session_id: 'b' }),
    ]);
    await send([playback(where, 'impression', { session_id: 'a' })]);
    expect((await stats(id!)).spent).toBe('0.03');
    const outcomes = await h.database.db.selectFrom('playback_charges').select('outcome').where('campaign_id', '=', id!).execute();
    expect(outcomes.filter((o) => o.outcome === 'frequency_capped')).toHaveLength(2);
  });

  it('reports the ingestion lag in /v1/admin/ingestion and on /metrics', async () => {
    const status = await h.call('admin', { method: 'GET', url: '/v1/admin/ingestion' });
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({ consumers: [{ consumer: 'campaign-matcher', pending_batches: 0, lag_seconds: 0 }], dedup: { window_days: 30, remembered_days: 32 } });
    expect(status.json().raw.partitions.length).toBeGreaterThanOrEqual(8);
    expect((await h.call('creator', { method: 'GET', url: '/v1/admin/ingestion' })).statusCode).toBe(403);
    const metrics = new Metrics();
    const app = await buildApp({ config: loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0' }), database: h.database, logger: pino({ level: 'silent' }), verifyToken: h.verifyToken, events: { metrics } });
    try {
      await h.database.db.insertInto('ingest_batches').values({ batch_id: randomUUID(), events: 3, accepted_at: new Date(Date.now() - 5000) }).execute();
      const text = (await app.inject({ url: '/metrics' })).body;
      const lag = Number(/nedlia_ingestion_lag_seconds\{consumer="campaign-matcher"\} ([\d.]+)/.exec(text)?.[1]);
      expect(lag).toBeGreaterThanOrEqual(4);
    } finally {
      await h.database.db.deleteFrom('ingest_batches').execute();
      await app.close();
    }
  });

  it('hides the stats of another advertiser’s campaign', async () => {
    const { campaigns: [id] } = await setup([{ budget: '1.00', pricing: { model: 'cpm', rate: '1' } }]);
    expect((await h.call('otherAdvertiser', { method: 'GET', url: `/v1/campaigns/${id}/stats` })).statusCode).toBe(404);
    expect((await h.call('admin', { method: 'GET', url: `/v1/campaigns/${id}/stats` })).statusCode).toBe(200);
  });
});
