/** The stats answer. */
import { Type } from 'typebox';
import type { CampaignStats } from './stats-model.js';

const Money = Type.String({ description: 'Exact decimal text, up to 7 decimals (a CPM impression can cost a fraction of a cent)', examples: ['12.3456'] });

export const StatsJson = Type.Object(
  {
    campaign_id: Type.String({ format: 'uuid' }),
    impressions: Type.Integer(),
    clicks: Type.Integer(),
    spent: Money,
    budget: Money,
    currency: Type.String(),
    by_day: Type.Array(
      Type.Object({ day: Type.String({ description: "YYYY-MM-DD in the advertiser's time zone" }), impressions: Type.Integer(), clicks: Type.Integer(), spent: Money }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

export const statsJson = (s: CampaignStats) => ({
  campaign_id: s.campaignId, impressions: s.impressions, clicks: s.clicks, spent: s.spent, budget: s.budget, currency: s.currency,
  by_day: s.byDay,
});
