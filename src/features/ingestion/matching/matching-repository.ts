/**
 * The matcher's queries, all in the consumer's transaction: the candidate campaigns
 * (locked, in id order, so concurrent batches never deadlock), today's spend and the
 * frequency counts they need, the waiting batches (locked, so each is applied by one
 * transaction only), and the writes of the batches: the guarded spend update, the stats
 * projection, the charges, the frequency counts, the batches' lag records.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../platform/db/schema.js';
import { ticksOf, sqlTicks, truncateToCents } from './money-rules.js';
import type { AcceptedPlaybackEvent } from '../ingestion-events.js';
import { dailyCapOf, frequencyCapOf, type CandidateCampaign, type Charge, type PricingModel } from './matching-rules.js';

/** A batch not yet applied, locked by this transaction. */
export interface WaitingBatch {
  batchId: string;
  /** Its events; undefined for a batch accepted before `ingest_batches.payload` (its delivery carries them). */
  events: AcceptedPlaybackEvent[] | undefined;
}

const payloadOf = (value: unknown): AcceptedPlaybackEvent[] | undefined =>
  value === null || value === undefined ? undefined : ((typeof value === 'string' ? JSON.parse(value) : value) as AcceptedPlaybackEvent[]);

/**
 * The delivered batch, locked FOR UPDATE: undefined when its row is gone, i.e. it was
 * applied already (by another delivery's transaction, which waited for nothing of ours).
 * A delivery of a batch another transaction is applying waits here until that commits.
 */
export async function lockBatch(tx: Kysely<Database>, batchId: string): Promise<WaitingBatch | undefined> {
  const { rows: [row] } = await sql<{ batch_id: string; payload: unknown }>`
    SELECT batch_id, payload FROM ingest_batches WHERE batch_id = ${batchId}::uuid FOR UPDATE`.execute(tx);
  return row ? { batchId: row.batch_id, events: payloadOf(row.payload) } : undefined;
}

/**
 * Other waiting batches, oldest first, as long as they hold at most `maxEvents` events in
 * all, locked FOR UPDATE SKIP LOCKED: a batch another transaction holds is left to it.
 */
export async function lockWaitingBatches(tx: Kysely<Database>, except: string, maxEvents: number): Promise<WaitingBatch[]> {
  if (maxEvents <= 0) return [];
  const { rows } = await sql<{ batch_id: string; events: number; payload: unknown }>`
    SELECT batch_id, events, payload FROM ingest_batches
    WHERE batch_id <> ${except}::uuid AND payload IS NOT NULL AND events <= ${maxEvents}
    ORDER BY accepted_at
    LIMIT ${Math.max(1, Math.ceil(maxEvents / 10))}
    FOR UPDATE SKIP LOCKED`.execute(tx);
  const out: WaitingBatch[] = [];
  let total = 0;
  for (const r of rows) {
    if (total + Number(r.events) > maxEvents) break;
    total += Number(r.events);
    out.push({ batchId: r.batch_id, events: payloadOf(r.payload) });
  }
  return out;
}

interface CampaignRow {
  id: string;
  advertiser_id: string;
  created_at: Date;
  start_date: string;
  end_date: string;
  time_zone: string;
  pricing_model: PricingModel;
  pricing_rate: string;
  budget: string;
  spent_precise: string;
  rules: Record<string, unknown> | string | null;
  status: string;
  product_ids: string[] | string;
}

const asArray = (v: string[] | string): string[] => (Array.isArray(v) ? v : v.replace(/^\{|\}$/g, '').split(',').filter(Boolean));

/** Active, live campaigns promoting any of `productIds`, locked FOR UPDATE in id order. */
export async function lockCandidates(tx: Kysely<Database>, productIds: readonly string[]): Promise<CandidateCampaign[]> {
  if (productIds.length === 0) return [];
  const { rows } = await sql<CampaignRow>`
    SELECT c.id, c.advertiser_id, c.created_at, c.start_date, c.end_date, a.time_zone, c.pricing_model, c.pricing_rate::text AS pricing_rate,
           c.budget::text AS budget, c.spent_precise::text AS spent_precise, c.rules, c.status,
           ARRAY(SELECT cp2.product_id::text FROM campaign_products cp2 WHERE cp2.campaign_id = c.id) AS product_ids
    FROM campaigns c JOIN advertisers a ON a.id = c.advertiser_id
    WHERE c.status = 'active' AND c.deleted_at IS NULL
      AND c.id IN (SELECT cp.campaign_id FROM campaign_products cp
                   WHERE cp.product_id IN (SELECT value::uuid FROM jsonb_array_elements_text(${JSON.stringify(productIds)}::jsonb)))
    ORDER BY c.id
    FOR UPDATE OF c`.execute(tx);
  return rows.map((r) => {
    const rules = typeof r.rules === 'string' ? (JSON.parse(r.rules) as Record<string, unknown>) : (r.rules ?? {});
    return {
      id: r.id,
      advertiserId: r.advertiser_id,
      productIds: asArray(r.product_ids),
      createdAt: new Date(r.created_at).getTime(),
      startDate: String(r.start_date).slice(0, 10),
      endDate: String(r.end_date).slice(0, 10),
      timeZone: r.time_zone,
      pricingModel: r.pricing_model,
      rateTicks: ticksOf(r.pricing_rate),
      budgetTicks: ticksOf(r.budget),
      spentTicks: ticksOf(r.spent_precise),
      dailyCapTicks: dailyCapOf(rules),
      frequencyCap: frequencyCapOf(rules),
      active: true,
    };
  });
}

/** Spend per "campaign|day" already recorded for the given campaigns and days. */
export async function daySpent(tx: Kysely<Database>, pairs: readonly { campaignId: string; day: string }[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (pairs.length === 0) return out;
  const { rows } = await sql<{ campaign_id: string; day: string; spent: string }>`
    SELECT s.campaign_id, s.day::text AS day, s.spent::text AS spent
    FROM campaign_daily_stats s JOIN jsonb_to_recordset(${JSON.stringify(pairs.map((p) => ({ campaign_id: p.campaignId, day: p.day })))}::jsonb) AS x(campaign_id uuid, day date)
      ON s.campaign_id = x.campaign_id AND s.day = x.day`.execute(tx);
  for (const r of rows) out.set(`${r.campaign_id}|${String(r.day).slice(0, 10)}`, ticksOf(r.spent));
  return out;
}

/** Charged impressions per "campaign|placement|session" for the given keys. */
export async function frequencyCounts(tx: Kysely<Database>, keys: readonly { campaignId: string; placementId: string; sessionId: string }[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (keys.length === 0) return out;
  const { rows } = await sql<{ campaign_id: string; placement_id: string; session_id: string; impressions: number }>`
    SELECT f.campaign_id, f.placement_id, f.session_id, f.impressions
    FROM session_frequency f JOIN jsonb_to_recordset(${JSON.stringify(keys.map((k) => ({ campaign_id: k.campaignId, placement_id: k.placementId, session_id: k.sessionId })))}::jsonb)
      AS x(campaign_id uuid, placement_id uuid, session_id text)
      ON f.campaign_id = x.campaign_id AND f.placement_id = x.placement_id AND f.session_id = x.session_id`.execute(tx);
  for (const r of rows) out.set(`${r.campaign_id}|${r.placement_id}|${r.session_id}`, Number(r.impressions));
  return out;
}

export interface CampaignDelta {
  campaignId: string;
  amount: bigint;
  /** The campaign's spend after this batch: `spent` shows it truncated to cents. */
  spentAfter: bigint;
  completes: boolean;
}

/**
 * One guarded update for every campaign charged: spend moves by the batch's amount only
 * where it stays within the budget (the CHECK is the last line of defence); a campaign
 * whose budget is spent completes. Throws when any guard refused (the batch retries).
 */
export async function applySpend(tx: Kysely<Database>, deltas: readonly CampaignDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  const values = deltas.map((d) => ({ id: d.campaignId, amount: sqlTicks(d.amount), cents: truncateToCents(d.spentAfter), completes: d.completes }));
  const { rows } = await sql<{ id: string }>`
    UPDATE campaigns c SET
      spent_precise = c.spent_precise + x.amount,
      spent = x.cents,
      status = CASE WHEN x.completes THEN 'completed' ELSE c.status END,
      version = CASE WHEN x.completes THEN c.version + 1 ELSE c.version END,
      updated_at = CASE WHEN x.completes THEN now() ELSE c.updated_at END
    FROM jsonb_to_recordset(${JSON.stringify(values)}::jsonb) AS x(id uuid, amount numeric, cents numeric, completes boolean)
    WHERE c.id = x.id AND c.spent_precise + x.amount <= c.budget
    RETURNING c.id`.execute(tx);
  if (rows.length !== deltas.length) throw new Error(`spend guard refused ${deltas.length - rows.length} of ${deltas.length} campaign updates; the batch is retried`);
}

/** The stats projection (totals and per day), the charges, the frequency counts, and the batches marked applied. */
export type RecordedCharge = Charge & { type: string; occurredAt: string; placementId: string; sessionId?: string | undefined };

/** `frequencyCapped`: the campaigns with a frequency cap, the only ones whose impressions are counted per session. */
export async function recordBatches(tx: Kysely<Database>, batchIds: readonly string[], charges: readonly RecordedCharge[], frequencyCapped: ReadonlySet<string>): Promise<void> {
  if (charges.length > 0) {
    // The charges as one array per column (uuids, dates, decimals and short words: no
    // element needs quoting), unnested server-side: far cheaper than a JSON recordset.
    const column = (value: (c: RecordedCharge) => string) => `{${charges.map(value).join(',')}}`;
    await sql`
      INSERT INTO playback_charges (applied_at, event_id, campaign_id, type, occurred_at, day, amount, outcome)
      SELECT now(), x.* FROM unnest(
        ${column((c) => c.eventId)}::uuid[], ${column((c) => c.campaignId)}::uuid[], ${column((c) => c.type)}::text[],
        ${column((c) => c.occurredAt)}::timestamptz[], ${column((c) => c.day)}::date[], ${column((c) => sqlTicks(c.amount))}::numeric[],
        ${column((c) => c.outcome)}::text[]) AS x`.execute(tx);

    // The projection's increments, summed here: one row per campaign and per campaign and day.
    const totals = new Map<string, { campaign_id: string; impressions: number; clicks: number; charged: number; spent: bigint }>();
    const daily = new Map<string, { campaign_id: string; day: string; impressions: number; clicks: number; spent: bigint }>();
    for (const c of charges) {
      const impression = c.type === 'impression' ? 1 : 0;
      const click = c.type === 'click' ? 1 : 0;
      let t = totals.get(c.campaignId);
      if (!t) totals.set(c.campaignId, (t = { campaign_id: c.campaignId, impressions: 0, clicks: 0, charged: 0, spent: 0n }));
      t.impressions += impression;
      t.clicks += click;
      t.charged += c.amount > 0n ? 1 : 0;
      t.spent += c.amount;
      const dayKey = `${c.campaignId}|${c.day}`;
      let d = daily.get(dayKey);
      if (!d) daily.set(dayKey, (d = { campaign_id: c.campaignId, day: c.day, impressions: 0, clicks: 0, spent: 0n }));
      d.impressions += impression;
      d.clicks += click;
      d.spent += c.amount;
    }
    const totalsJson = JSON.stringify([...totals.values()].map((t) => ({ ...t, spent: sqlTicks(t.spent) })));
    const dailyJson = JSON.stringify([...daily.values()].map((d) => ({ ...d, spent: sqlTicks(d.spent) })));
    await sql`
      INSERT INTO campaign_stats AS s (campaign_id, impressions, clicks, charged_events, spent, updated_at)
      SELECT campaign_id, impressions, clicks, charged, spent, now()
      FROM jsonb_to_recordset(${totalsJson}::jsonb) AS x(campaign_id uuid, impressions bigint, clicks bigint, charged bigint, spent numeric)
      ORDER BY campaign_id
      ON CONFLICT (campaign_id) DO UPDATE SET impressions = s.impressions + EXCLUDED.impressions, clicks = s.clicks + EXCLUDED.clicks,
        charged_events = s.charged_events + EXCLUDED.charged_events, spent = s.spent + EXCLUDED.spent, updated_at = now()`.execute(tx);
    await sql`
      INSERT INTO campaign_daily_stats AS s (campaign_id, day, impressions, clicks, spent)
      SELECT campaign_id, day, impressions, clicks, spent
      FROM jsonb_to_recordset(${dailyJson}::jsonb) AS x(campaign_id uuid, day date, impressions bigint, clicks bigint, spent numeric)
      ORDER BY campaign_id, day
      ON CONFLICT (campaign_id, day) DO UPDATE SET impressions = s.impressions + EXCLUDED.impressions, clicks = s.clicks + EXCLUDED.clicks,
        spent = s.spent + EXCLUDED.spent`.execute(tx);
    const counted = new Map<string, { campaign_id: string; placement_id: string; session_id: string; n: number }>();
    for (const c of charges) {
      if (c.type !== 'impression' || !c.sessionId || c.outcome === 'frequency_capped' || !frequencyCapped.has(c.campaignId)) continue;
      const key = `${c.campaignId}|${c.placementId}|${c.sessionId}`;
      const entry = counted.get(key) ?? { campaign_id: c.campaignId, placement_id: c.placementId, session_id: c.sessionId, n: 0 };
      entry.n++;
      counted.set(key, entry);
    }
    if (counted.size > 0) {
      await sql`
        INSERT INTO session_frequency AS f (campaign_id, placement_id, session_id, impressions, last_seen_at)
        SELECT campaign_id, placement_id, session_id, n, now()
        FROM jsonb_to_recordset(${JSON.stringify([...counted.values()])}::jsonb) AS x(campaign_id uuid, placement_id uuid, session_id text, n int)
        ON CONFLICT (campaign_id, placement_id, session_id) DO UPDATE SET impressions = f.impressions + EXCLUDED.impressions, last_seen_at = now()`.execute(tx);
    }
  }
  await sql`DELETE FROM ingest_batches WHERE batch_id IN (SELECT value::uuid FROM jsonb_array_elements_text(${JSON.stringify(batchIds)}::jsonb))`.execute(tx);
}
