/**
 * `GET /v1/campaigns/{id}/stats`: who may read a campaign may read its stats (the
 * catalog decides: admins, and the advertiser that owns it; 404 for anyone else).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../../platform/db/schema.js';
import type { Actor } from '../../../platform/auth/actor.js';
import { notFound } from '../../../platform/errors.js';
import { getCampaign } from '../../catalog/index.js';
import { formatTicks, ticksOf } from '../matching/money-rules.js';
import type { CampaignStats } from './stats-model.js';
import { readStats } from './stats-repository.js';

export async function getCampaignStats(deps: { db: Kysely<Database> }, actor: Actor, id: string, range: { from?: string; to?: string }): Promise<CampaignStats> {
  await getCampaign({ db: deps.db }, actor, id);
  const { totals, days } = await readStats(deps.db, id, range);
  if (!totals) throw notFound('campaign', id);
  return {
    campaignId: id,
    impressions: Number(totals.impressions ?? 0),
    clicks: Number(totals.clicks ?? 0),
    spent: formatTicks(ticksOf(totals.spent_precise)),
    budget: formatTicks(ticksOf(totals.budget)),
    currency: totals.currency,
    byDay: days.map((d) => ({ day: String(d.day).slice(0, 10), impressions: Number(d.impressions), clicks: Number(d.clicks), spent: formatTicks(ticksOf(d.spent)) })),
  };
}
