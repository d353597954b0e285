/** A campaign's statistics as the use case returns them (money as exact decimal text). */
export interface CampaignStats {
  campaignId: string;
  impressions: number;
  clicks: number;
  /** Exact spend (up to 7 decimals). */
  spent: string;
  budget: string;
  currency: string;
  byDay: { day: string; impressions: number; clicks: number; spent: string }[];
}
