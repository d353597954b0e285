/**
 * The matcher charges many waiting batches per transaction: a backlog of batches is
 * applied in fewer transactions than batches, each event exactly once, spend equal to the
 * sum of its charges and never past the budget; a delivery whose batch another
 * transaction applied changes nothing; a batch accepted before `ingest_batches.payload`
 * (a v2 event carrying its events) is charged from its event.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { openHarness, type Harness } from '../../http/catalog/support.js';
import { PostgresBus } from '../../../src/platform/bus/postgres/postgres-bus.js';
import { ConsumerRuntime } from '../../../src/platform/consumers/consumer-runtime.js';
import { buildEvent, insertEvents } from '../../../src/platform/events/event-log.js';
import { campaignMatcher } from '../../../src/features/ingestion/matching/campaign-matcher.js';
import { PlaybackEventTypes } from '../../../src/features/ingestion/index.js';
import { drained, newKey, playback, postEvents, startPipeline } from './support.js';
import '../../../src/entry/event-types.js';

let h: Harness;
let key: string;
beforeAll(async () => {
  h = await openHarness();
  key = (await newKey(h)).key;
});
afterAll(async () => {
  await h?.close();
});

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

async function campaignWithPlacement(budget: string, pricing: { model: 'cpm' | 'cpc'; rate: string }) {
  const product = (await h.call('advertiser', { method: 'POST', url: '/v1/products', body: { name: `P-${randomUUID()}` } })).json().id as string;
  const res = await h.call('advertiser', { method: 'POST', url: '/v1/campaigns', body: { name: 'C', budget, start_date: day(-10), end_date: day(10), status: 'active', product_ids: [product], pricing } });
  if (res.statusCode !== 201) throw new Error(res.body);
  const video = (await h.call('creator', { method: 'POST', url: '/v1/videos', body: { title: 'V', duration: 100, status: 'ready' } })).json().id as string;
  const placement = (await h.call('creator', { method: 'POST', url: '/v1/placements', body: { video_id: video, product_id: product, start_time: 1, end_time: 2 } })).json().id as string;
  return { campaign: res.json().id as string, where: { placementId: placement, videoId: video } };
}

const ledger = async (campaign: string) => {
  const { rows: [row] } = await sql<{ spent: string; charged: string; n: string; distinct_events: string; budget: string; stats: string | null }>`
    SELECT c.spent_precise::text AS spent, c.budget::text AS budget,
           (SELECT coalesce(sum(amount), 0)::text FROM playback_charges WHERE campaign_id = c.id) AS charged,
           (SELECT count(*)::text FROM playback_charges WHERE campaign_id = c.id) AS n,
           (SELECT count(DISTINCT event_id)::text FROM playback_charges WHERE campaign_id = c.id) AS distinct_events,
           (SELECT spent::text FROM campaign_stats WHERE campaign_id = c.id) AS stats
    FROM campaigns c WHERE c.id = ${campaign}`.execute(h.database.db);
  return row!;
};

describe(`matcher batching (${engine})`, () => {
  it('applies a backlog of batches in fewer transactions, each event once, never past the budget', async () => {
    const roomy = await campaignWithPlacement('1000.00', { model: 'cpc', rate: '0.25' });
    // 0.10 per click, 40 clicks: the 7th is charged 0.05 (what is left) and the campaign completes.
    const tight = await campaignWithPlacement('0.65', { model: 'cpc', rate: '0.10' });
    const requests = 30;
    for (let i = 0; i < requests; i++) {
      const events = [
        ...Array.from({ length: 10 }, () => playback(roomy.where, 'click')),
        ...(i < 4 ? Array.from({ length: 10 }, () => playback(tight.where, 'click')) : []),
      ];
      expect((await postEvents(h, key, { events })).statusCode).toBe(202);
    }
    const waiting = Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM ingest_batches`.execute(h.database.db)).rows[0]!.n);
    expect(waiting).toBe(requests);

    const pipeline = await startPipeline(h);
    try {
      await drained(h);
    } finally {
      await pipeline.stop();
    }
    const r = await ledger(roomy.campaign);
    expect([r.n, r.distinct_events]).toEqual(['300', '300']);
    expect(Number(r.spent)).toBe(75);
    expect(Number(r.charged)).toBe(Number(r.spent));
    expect(Number(r.stats)).toBe(Number(r.spent));
    const t = await ledger(tight.campaign);
    expect(t.distinct_events).toBe(t.n);
    expect(Number(t.spent)).toBe(0.65);
    expect(Number(t.charged)).toBe(0.65);
    expect(Number(t.stats)).toBe(0.65);
    // Fewer transactions than batches: the charges of one transaction share its start (applied_at).
    const transactions = Number((await sql<{ n: string }>`SELECT count(DISTINCT applied_at)::text AS n FROM playback_charges WHERE campaign_id = ${roomy.campaign}`.execute(h.database.db)).rows[0]!.n);
    expect(transactions).toBeLessThan(requests);
  });

  it('charges a v2 event of a batch without payload from its events, and a redelivery or an applied batch changes nothing', async () => {
    const { campaign, where } = await campaignWithPlacement('100.00', { model: 'cpc', rate: '1.50' });
    const placement = await h.database.db.selectFrom('placements').select('product_id').where('id', '=', where.placementId).executeTakeFirstOrThrow();
    const batchId = randomUUID();
    const events = [0, 1, 2].map(() => ({ id: randomUUID(), type: 'click' as const, placement_id: where.placementId, product_id: placement.product_id, occurred_at: new Date(Date.now() - 60_000).toISOString() }));
    await h.database.db.insertInto('ingest_batches').values({ batch_id: batchId, events: events.length }).execute();
    const v2 = buildEvent({ type: PlaybackEventTypes.eventsAccepted, version: 2, subject: batchId, data: { batch_id: batchId, events }, source: '/ingestion' }, { correlationId: 'test' });
    await insertEvents(h.database.db, [v2]);
    const bus = new PostgresBus(h.database.db, {});
    const runtime = new ConsumerRuntime({ db: h.database.db, bus, logger: pino({ level: 'silent' }) });
    try {
      expect(await runtime.handleDelivery(campaignMatcher, { event: v2, attempt: 1 })).toEqual({ kind: 'ack' });
      expect((await ledger(campaign)).spent).toBe('4.5000000');
      // The same event again (the inbox), and another event naming the applied batch (its row is gone).
      await runtime.handleDelivery(campaignMatcher, { event: v2, attempt: 2 });
      const other = buildEvent({ type: PlaybackEventTypes.eventsAccepted, subject: batchId, data: { batch_id: batchId, count: 3 }, source: '/ingestion' }, { correlationId: 'test' });
      expect(await runtime.handleDelivery(campaignMatcher, { event: other, attempt: 1 })).toEqual({ kind: 'ack' });
      const after = await ledger(campaign);
      expect([after.spent, after.n]).toEqual(['4.5000000', '3']);
      expect(await h.database.db.selectFrom('ingest_batches').select('batch_id').where('batch_id', '=', batchId).execute()).toEqual([]);
    } finally {
      await bus.close();
    }
  });
});
