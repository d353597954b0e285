/** Reads of the stats projection (campaign_stats, campaign_daily_stats), never of raw events. */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../platform/db/schema.js';

export async function readStats(db: Kysely<Database>, campaignId: string, range: { from?: string; to?: string }) {
  const { rows: [totals] } = await sql<{ impressions: number | null; clicks: number | null; spent_precise: string; budget: string; currency: string }>`
    SELECT s.impressions, s.clicks, c.spent_precise::text AS spent_precise, c.budget::text AS budget, c.currency
    FROM campaigns c LEFT JOIN campaign_stats s ON s.campaign_id = c.id WHERE c.id = ${campaignId}`.execute(db);
  let days = db.selectFrom('campaign_daily_stats').select(['day', 'impressions', 'clicks', sql<string>`spent::text`.as('spent')]).where('campaign_id', '=', campaignId);
  if (range.from) days = days.where('day', '>=', range.from);
  if (range.to) days = days.where('day', '<=', range.to);
  return { totals, days: await days.orderBy('day').limit(3660).execute() };
}
