/** Ingestion's pure rules, given/when/then: money in ticks, prices, the choice, the caps, days in a time zone, the window. */
import { describe, expect, it } from 'vitest';
import { formatTicks, parseTicks, sqlTicks, truncateToCents } from '../../../src/features/ingestion/matching/money-rules.js';
import { chargeEvent, localDay, priceOf, type CandidateCampaign, type MatchingState } from '../../../src/features/ingestion/matching/matching-rules.js';
import { occurredAtErrors } from '../../../src/features/ingestion/events/event-rules.js';

const campaign = (over: Partial<CandidateCampaign> = {}): CandidateCampaign => ({
  id: 'c1', advertiserId: 'a', productIds: ['p'], createdAt: 1, startDate: '2026-01-01', endDate: '2026-12-31', timeZone: 'UTC',
  pricingModel: 'cpm', rateTicks: parseTicks('4.5') as bigint, budgetTicks: parseTicks('100') as bigint, spentTicks: 0n,
  dailyCapTicks: undefined, frequencyCap: undefined, active: true, ...over,
});
const state = (): MatchingState => ({ daySpent: new Map(), frequency: new Map() });
const event = (over: Record<string, unknown> = {}) => ({ id: 'e', type: 'impression' as const, placementId: 'pl', productId: 'p', occurredAt: '2026-06-01T12:00:00Z', ...over });

describe('money in ticks of 10^-7', () => {
  it('parses and prints exactly', () => {
    expect(parseTicks('4.5')).toBe(45_000_000n);
    expect(formatTicks(4_500n)).toBe('0.00045');
    expect(formatTicks(parseTicks('12') as bigint)).toBe('12.00');
    expect(sqlTicks(31_500n)).toBe('0.0031500');
    expect(truncateToCents(parseTicks('0.0399999') as bigint)).toBe('0.03');
    expect(parseTicks('1.12345678')).toBeUndefined();
    expect(parseTicks('-1')).toBeUndefined();
  });
  it('prices CPM per thousand, CPC per click, flat never', () => {
    expect(priceOf('impression', 'cpm', parseTicks('3.3333') as bigint)).toBe(33_333n);
    expect(priceOf('click', 'cpm', 1n)).toBe(0n);
    expect(priceOf('click', 'cpc', parseTicks('0.07') as bigint)).toBe(700_000n);
    expect(priceOf('impression', 'flat', 10n)).toBe(0n);
  });
});

describe('choosing and charging', () => {
  it('given two eligible campaigns, the older one takes the event; equal ages go by id', () => {
    const a = campaign({ id: 'b', createdAt: 2 });
    const b = campaign({ id: 'a', createdAt: 1 });
    expect(chargeEvent(event(), [a, b], state())?.campaignId).toBe('a');
    const c = campaign({ id: 'z', createdAt: 1 });
    expect(chargeEvent(event(), [c, b], state())?.campaignId).toBe('a');
  });
  it('given a campaign outside its dates (in its zone), it is skipped', () => {
    const late = campaign({ startDate: '2026-06-02', timeZone: 'Asia/Tokyo' });
    // 2026-06-01T16:00Z is already June 2nd in Tokyo.
    expect(chargeEvent(event({ occurredAt: '2026-06-01T16:00:00Z' }), [late], state())?.campaignId).toBe('c1');
    expect(chargeEvent(event({ occurredAt: '2026-06-01T14:00:00Z' }), [late], state())).toBeUndefined();
  });
  it('given a price above the budget left, only what is left is charged and the campaign is exhausted', () => {
    const c = campaign({ pricingModel: 'cpc', rateTicks: 100n, budgetTicks: 250n });
    const s = state();
    const charges = [1, 2, 3, 4].map(() => chargeEvent(event({ type: 'click' }), [c], s));
    expect(charges.map((x) => x && [x.amount, x.outcome, x.exhausted])).toEqual([[100n, 'charged', false], [100n, 'charged', false], [50n, 'partial', true], undefined]);
    expect(c.spentTicks).toBe(250n);
  });
  it('given a daily cap, it is never passed, and a new local day starts afresh', () => {
    const c = campaign({ pricingModel: 'cpc', rateTicks: 100n, dailyCapTicks: 150n, timeZone: 'America/New_York' });
    const s = state();
    const at = (t: string) => chargeEvent(event({ type: 'click', occurredAt: t }), [c], s)?.amount;
    expect([at('2026-06-02T03:00:00Z'), at('2026-06-02T03:30:00Z'), at('2026-06-02T03:45:00Z')]).toEqual([100n, 50n, undefined]);
    // 04:30Z is 00:30 on June 2nd in New York (UTC-4 in June).
    expect(at('2026-06-02T04:30:00Z')).toBe(100n);
  });
  it('given a frequency cap, further impressions of the session on the placement cost nothing', () => {
    const c = campaign({ frequencyCap: 1 });
    const s = state();
    expect(chargeEvent(event({ sessionId: 's' }), [c], s)?.outcome).toBe('charged');
    expect(chargeEvent(event({ sessionId: 's' }), [c], s)?.outcome).toBe('frequency_capped');
    expect(chargeEvent(event({ sessionId: 's', placementId: 'other' }), [c], s)?.outcome).toBe('charged');
  });
});

describe('days and the window', () => {
  it('counts days in the zone, across daylight-saving changes', () => {
    expect(localDay('2026-03-08T04:59:00Z', 'America/New_York')).toBe('2026-03-07');
    expect(localDay('2026-03-08T05:00:00Z', 'America/New_York')).toBe('2026-03-08');
    expect(localDay('2026-11-01T03:59:00Z', 'America/New_York')).toBe('2026-10-31');
    expect(localDay('2026-11-01T04:00:00Z', 'America/New_York')).toBe('2026-11-01');
    expect(localDay('2026-06-01T12:00:00Z', 'Not/AZone')).toBe('2026-06-01');
  });
  it('admits events from the window up to 5 minutes ahead', () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    expect(occurredAtErrors('2026-06-01T12:04:00Z', now, 30)).toEqual([]);
    expect(occurredAtErrors('2026-06-01T12:06:00Z', now, 30)).toHaveLength(1);
    expect(occurredAtErrors('2026-05-02T12:01:00Z', now, 30)).toEqual([]);
    expect(occurredAtErrors('2026-05-02T11:59:00Z', now, 30)).toHaveLength(1);
  });
});
