/** A campaign as the use cases return it: its row (the repository's rows have this shape) and the products it promotes. */
import type { CampaignStatus } from './campaign-rules.js';

export type PricingModel = 'cpm' | 'cpc' | 'flat';

export interface CampaignRecord {
  id: string;
  advertiser_id: string;
  name: string;
  /** Money as DECIMAL text ("100.00"). */
  budget: string;
  spent: string;
  currency: string;
  status: CampaignStatus;
  /** YYYY-MM-DD. */
  start_date: string;
  end_date: string;
  pricing_model: PricingModel;
  pricing_rate: string;
  rules: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  created_by: string | null;
  deleted_at: Date | null;
  version: number;
}

export interface Campaign {
  row: CampaignRecord;
  productIds: string[];
}
