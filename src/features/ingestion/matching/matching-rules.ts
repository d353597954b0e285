/**
 * Campaign rules, pure: which campaign an accepted playback event is charged to, what
 * it costs, and how much of that may be charged.
 *
 * The choice (deterministic): of the campaigns that promote the placement's product,
 * are `active`, and whose dates contain the event's day (`occurred_at` in the
 * advertiser's time zone, both dates inclusive), those with budget left and, if they
 * have a daily cap, cap left on that day; of these the one created first (`created_at`,
 * then the smaller id). So a product's oldest live campaign serves first and the next
 * one takes over once it completes or reaches its cap for the day.
 *
 * The price: `cpm` charges rate / 1000 per impression, `cpc` the rate per click,
 * `flat` nothing per event (views are never charged). The charge is the price capped by
 * what is left of the budget and of the day's cap: the part that would pass either is
 * not charged. A campaign with `rules.frequency_cap` = N charges at most N impressions
 * per session per placement; further ones are recorded and cost nothing.
 */
import { minTicks, parseTicks } from './money-rules.js';

export type PlaybackType = 'impression' | 'click' | 'view_start' | 'view_end';
export type PricingModel = 'cpm' | 'cpc' | 'flat';
export type ChargeOutcome = 'charged' | 'partial' | 'free' | 'frequency_capped' | 'daily_capped' | 'budget_capped';

export interface CandidateCampaign {
  id: string;
  advertiserId: string;
  productIds: readonly string[];
  createdAt: number;
  startDate: string;
  endDate: string;
  timeZone: string;
  pricingModel: PricingModel;
  /** Rate in ticks (10^-7), as stored: DECIMAL(12,4). */
  rateTicks: bigint;
  budgetTicks: bigint;
  spentTicks: bigint;
  dailyCapTicks: bigint | undefined;
  frequencyCap: number | undefined;
  active: boolean;
}

export interface MatchableEvent {
  id: string;
  type: PlaybackType;
  placementId: string;
  productId: string;
  occurredAt: string;
  sessionId?: string | undefined;
}

/** State the decisions read and change as a batch is applied in order. */
export interface MatchingState {
  /** Spent per campaign and local day ("id|YYYY-MM-DD"). */
  daySpent: Map<string, bigint>;
  /** Charged impressions per "campaign|placement|session". */
  frequency: Map<string, number>;
}

export interface Charge {
  eventId: string;
  campaignId: string;
  day: string;
  price: bigint;
  amount: bigint;
  outcome: ChargeOutcome;
  /** True when this charge spent the campaign's last tick of budget. */
  exhausted: boolean;
}

/**
 * The calendar day of `instant` in `timeZone` (IANA), `YYYY-MM-DD`. Remembered per zone
 * and minute (every zone's day starts on a whole minute), so a batch of events of the
 * same minutes formats each minute once.
 */
export function localDay(instant: string | Date, timeZone: string): string {
  const ms = typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
  const key = `${timeZone}|${Math.floor(ms / 60_000)}`;
  const known = DAYS.get(key);
  if (known !== undefined) return known;
  let formatter = FORMATTERS.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone: safeZone(timeZone), year: 'numeric', month: '2-digit', day: '2-digit' });
    FORMATTERS.set(timeZone, formatter);
  }
  const day = formatter.format(ms);
  if (DAYS.size >= 50_000) DAYS.clear();
  DAYS.set(key, day);
  return day;
}
const DAYS = new Map<string, string>();
const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

/** A zone Intl knows, else UTC (a bad zone in the database must not stop matching). */
export function safeZone(timeZone: string): string {
  return isTimeZone(timeZone) ? timeZone : 'UTC';
}

export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The price of one event under a campaign's pricing, in ticks. */
export function priceOf(type: PlaybackType, model: PricingModel, rateTicks: bigint): bigint {
  if (model === 'cpm' && type === 'impression') return rateTicks / 1000n;
  if (model === 'cpc' && type === 'click') return rateTicks;
  return 0n;
}

/** `rules.daily_budget` (a decimal string or number) in ticks, if set and valid. */
export function dailyCapOf(rules: Record<string, unknown>): bigint | undefined {
  const value = rules.daily_budget;
  return typeof value === 'string' || typeof value === 'number' ? parseTicks(value) : undefined;
}

/** `rules.frequency_cap` (max impressions per session per placement), if a positive integer. */
export function frequencyCapOf(rules: Record<string, unknown>): number | undefined {
  const value = rules.frequency_cap;
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : undefined;
}

const dayKey = (campaignId: string, day: string): string => `${campaignId}|${day}`;
const frequencyKey = (campaignId: string, placementId: string, sessionId: string): string => `${campaignId}|${placementId}|${sessionId}`;

function hasRoom(c: CandidateCampaign, day: string, state: MatchingState): boolean {
  if (!c.active || c.spentTicks >= c.budgetTicks) return false;
  if (day < c.startDate || day > c.endDate) return false;
  return c.dailyCapTicks === undefined || (state.daySpent.get(dayKey(c.id, day)) ?? 0n) < c.dailyCapTicks;
}

/** The campaign an event goes to (see the file's comment), with its local day; undefined when none. */
export function chooseCampaign(event: MatchableEvent, candidates: readonly CandidateCampaign[], state: MatchingState): { campaign: CandidateCampaign; day: string } | undefined {
  let best: { campaign: CandidateCampaign; day: string } | undefined;
  for (const c of candidates) {
    if (!c.productIds.includes(event.productId)) continue;
    const day = localDay(event.occurredAt, c.timeZone);
    if (!hasRoom(c, day, state)) continue;
    if (!best || c.createdAt < best.campaign.createdAt || (c.createdAt === best.campaign.createdAt && c.id < best.campaign.id)) best = { campaign: c, day };
  }
  return best;
}

/**
 * Charges one event: chooses its campaign, prices it, applies the caps, and moves the
 * campaign's spend and the state. Returns undefined when no campaign takes it.
 */
export function chargeEvent(event: MatchableEvent, candidates: readonly CandidateCampaign[], state: MatchingState): Charge | undefined {
  if (event.type !== 'impression' && event.type !== 'click') return undefined;
  const chosen = chooseCampaign(event, candidates, state);
  if (!chosen) return undefined;
  const { campaign: c, day } = chosen;
  const price = priceOf(event.type, c.pricingModel, c.rateTicks);
  const base = { eventId: event.id, campaignId: c.id, day, price, exhausted: false };

  if (event.type === 'impression' && c.frequencyCap !== undefined && event.sessionId) {
    const key = frequencyKey(c.id, event.placementId, event.sessionId);
    const seen = state.frequency.get(key) ?? 0;
    if (seen >= c.frequencyCap) return { ...base, amount: 0n, outcome: 'frequency_capped' };
    state.frequency.set(key, seen + 1);
  }
  if (price === 0n) return { ...base, amount: 0n, outcome: 'free' };

  const spentToday = state.daySpent.get(dayKey(c.id, day)) ?? 0n;
  const budgetLeft = c.budgetTicks - c.spentTicks;
  const dayLeft = c.dailyCapTicks === undefined ? budgetLeft : c.dailyCapTicks - spentToday;
  const amount = minTicks(price, budgetLeft, dayLeft);
  c.spentTicks += amount;
  state.daySpent.set(dayKey(c.id, day), spentToday + amount);
  const exhausted = c.spentTicks >= c.budgetTicks;
  if (exhausted) c.active = false;
  const outcome: ChargeOutcome = amount === price ? 'charged' : budgetLeft <= dayLeft ? 'budget_capped' : 'daily_capped';
  return { ...base, amount, outcome: amount > 0n && amount < price ? 'partial' : outcome, exhausted };
}
