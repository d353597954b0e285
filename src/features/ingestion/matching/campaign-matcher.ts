/**
 * The campaign matcher (consumer `campaign-matcher`): charges each accepted impression
 * and click to one campaign (matching-rules.ts) and keeps the stats projection, in the
 * consumer's transaction, together with its inbox record, so a redelivered batch changes
 * nothing and a crash loses nothing. A campaign whose budget this transaction spends
 * completes and `campaign.budget_exhausted` is emitted.
 *
 * One transaction charges many batches: the delivered one and, on a first attempt, the
 * other batches waiting in `ingest_batches` (up to MAX_EVENTS_PER_TRANSACTION events,
 * those no other transaction holds), so the campaign rows are locked, updated and
 * committed once for thousands of events instead of once per delivery. A batch is
 * applied only by the transaction that locked its row and deletes it: a delivery whose
 * row is gone finds its batch applied and changes nothing. A retried delivery charges its
 * own batch alone, so a batch that keeps failing fails only its own delivery.
 */
import type { Consumer } from '../../../platform/consumers/consumer.js';
import { EventTypes } from '../../catalog/index.js';
import { PlaybackEventTypes, type AcceptedPlaybackEvent, type EventsAcceptedV3 } from '../ingestion-events.js';
import { formatTicks, truncateToCents } from './money-rules.js';
import { chargeEvent, localDay, type CandidateCampaign, type MatchableEvent, type MatchingState } from './matching-rules.js';
import {
  applySpend, daySpent, frequencyCounts, lockBatch, lockCandidates, lockWaitingBatches, recordBatches, type CampaignDelta, type RecordedCharge,
} from './matching-repository.js';

export const MATCHER = 'campaign-matcher';

/** Bound on the events one matcher transaction charges (its own batch plus the waiting ones). */
export const MAX_EVENTS_PER_TRANSACTION = 10_000;

export const campaignMatcher: Consumer = {
  name: MATCHER,
  types: [PlaybackEventTypes.eventsAccepted],
  // Most deliveries find their batch applied by another's transaction: they take a few ms each.
  concurrency: 8,
  // A transaction takes well under a second: after a crash, its delivery comes back within 10 s.
  leaseMs: 10_000,
  async handle(event, tx, context) {
    const delivered = event.data as EventsAcceptedV3;
    const own = await lockBatch(tx, delivered.batch_id);
    if (!own) {
      context.logger.debug({ batch_id: delivered.batch_id }, 'batch applied already (with another delivery)');
      return;
    }
    const ownEvents = own.events ?? delivered.events;
    if (!ownEvents) throw new Error(`batch ${own.batchId} has no events to charge: neither ingest_batches.payload nor the event carries them`);
    const others = context.attempt === 1 ? await lockWaitingBatches(tx, own.batchId, MAX_EVENTS_PER_TRANSACTION - ownEvents.length) : [];
    const events: AcceptedPlaybackEvent[] = [...ownEvents];
    for (const b of others) if (b.events) events.push(...b.events);
    const candidates = await lockCandidates(tx, [...new Set(events.map((e) => e.product_id))]);

    // The candidates of each product (each event looks only at its product's).
    const byProduct = new Map<string, CandidateCampaign[]>();
    for (const c of candidates) {
      for (const p of c.productIds) {
        const list = byProduct.get(p);
        if (list) list.push(c);
        else byProduct.set(p, [c]);
      }
    }
    const NONE: CandidateCampaign[] = [];
    // What the caps need: the recorded spend of each (campaign, local day), the session counts.
    const days = new Map<string, { campaignId: string; day: string }>();
    const sessions = new Map<string, { campaignId: string; placementId: string; sessionId: string }>();
    for (const e of events) {
      for (const c of byProduct.get(e.product_id) ?? NONE) {
        if (c.dailyCapTicks !== undefined) {
          const day = localDay(e.occurred_at, c.timeZone);
          days.set(`${c.id}|${day}`, { campaignId: c.id, day });
        }
        if (c.frequencyCap !== undefined && e.session_id && e.type === 'impression') {
          sessions.set(`${c.id}|${e.placement_id}|${e.session_id}`, { campaignId: c.id, placementId: e.placement_id, sessionId: e.session_id });
        }
      }
    }
    const state: MatchingState = { daySpent: await daySpent(tx, [...days.values()]), frequency: await frequencyCounts(tx, [...sessions.values()]) };

    const before = new Map(candidates.map((c) => [c.id, c.spentTicks]));
    const charges: RecordedCharge[] = [];
    for (const e of events) {
      const matchable: MatchableEvent = { id: e.id, type: e.type, placementId: e.placement_id, productId: e.product_id, occurredAt: e.occurred_at, sessionId: e.session_id };
      const charge = chargeEvent(matchable, byProduct.get(e.product_id) ?? NONE, state);
      if (charge) charges.push({ ...charge, type: e.type, occurredAt: e.occurred_at, placementId: e.placement_id, sessionId: e.session_id });
    }

    const deltas: CampaignDelta[] = [];
    const exhausted = [];
    for (const c of candidates) {
      const amount = c.spentTicks - (before.get(c.id) ?? 0n);
      const completes = c.spentTicks >= c.budgetTicks;
      if (amount > 0n || completes) deltas.push({ campaignId: c.id, amount, spentAfter: c.spentTicks, completes });
      if (completes) exhausted.push(c);
    }
    await applySpend(tx, deltas);
    await recordBatches(tx, [own.batchId, ...others.map((b) => b.batchId)], charges, new Set(candidates.filter((c) => c.frequencyCap !== undefined).map((c) => c.id)));
    if (exhausted.length > 0) {
      await context.emit(
        exhausted.map((c) => ({
          type: EventTypes.campaignBudgetExhausted,
          subject: c.id,
          source: '/ingestion',
          data: { campaign_id: c.id, advertiser_id: c.advertiserId, budget: truncateToCents(c.budgetTicks), spent: truncateToCents(c.spentTicks) },
        })),
      );
      context.logger.info({ campaigns: exhausted.map((c) => ({ id: c.id, spent: formatTicks(c.spentTicks) })) }, 'campaign budget exhausted: completed');
    }
  },
};
