/**
 * The campaign matcher (consumer `campaign-matcher`): charges each accepted impression
 * and click to one campaign (matching-rules.ts) and keeps the stats projection, in the
 * consumer's transaction, together with its inbox record, so a redelivered batch changes
 * nothing and a crash loses nothing. A campaign whose budget this batch spends completes
 * and `campaign.budget_exhausted` is emitted.
 */
import type { Consumer } from '../../../platform/consumers/consumer.js';
import { EventTypes } from '../../catalog/index.js';
import { PlaybackEventTypes, type EventsAcceptedV2 } from '../ingestion-events.js';
import { formatTicks, truncateToCents } from './money-rules.js';
import { chargeEvent, localDay, type MatchableEvent, type MatchingState } from './matching-rules.js';
import { applySpend, daySpent, frequencyCounts, lockCandidates, recordBatch, type CampaignDelta, type RecordedCharge } from './matching-repository.js';

export const MATCHER = 'campaign-matcher';

export const campaignMatcher: Consumer = {
  name: MATCHER,
  types: [PlaybackEventTypes.eventsAccepted],
  concurrency: 4,
  // A batch takes milliseconds: after a crash, its delivery comes back within 10 s.
  leaseMs: 10_000,
  async handle(event, tx, context) {
    const { batch_id: batchId, events } = event.data as EventsAcceptedV2;
    const candidates = await lockCandidates(tx, [...new Set(events.map((e) => e.product_id))]);

    // What the caps need: the recorded spend of each (campaign, local day), the session counts.
    const days = new Map<string, { campaignId: string; day: string }>();
    const sessions = new Map<string, { campaignId: string; placementId: string; sessionId: string }>();
    for (const c of candidates) {
      for (const e of events) {
        if (!c.productIds.includes(e.product_id)) continue;
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
      const charge = chargeEvent(matchable, candidates, state);
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
    await recordBatch(tx, batchId, charges, new Set(candidates.filter((c) => c.frequencyCap !== undefined).map((c) => c.id)));
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
