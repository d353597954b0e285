/** Campaign: the JSON shapes and how a row becomes one. Money is a decimal string. */
import { Type } from 'typebox';
import type { Campaign as CampaignView } from './campaign-model.js';
import { Timestamp, Uuid } from '../shared/catalog-http.js';
import { EXPECTED } from '../../../platform/http/validation.js';

const Status = Type.Enum(['draft', 'active', 'paused', 'completed']);
const Money = Type.String({
  pattern: '^\\d{1,10}(\\.\\d{1,2})?$',
  description: 'Decimal string, two places: "1500.00"',
  examples: ['1500.00'],
  [EXPECTED]: 'a decimal string with at most two places, such as "1500.00"',
});
const Rate = Type.String({
  pattern: '^\\d{1,8}(\\.\\d{1,4})?$',
  description: 'Decimal string: per thousand views (cpm), per click (cpc) or the whole price (flat)',
  examples: ['4.50'],
  [EXPECTED]: 'a decimal string with at most four places, such as "4.50"',
});
const Day = Type.String({ format: 'date', pattern: '^(19|20|21)\\d\\d-', description: 'YYYY-MM-DD', examples: ['2026-06-01'], [EXPECTED]: 'a date such as "2026-06-01"' });
const Pricing = Type.Object(
  { model: Type.Enum(['cpm', 'cpc', 'flat']), rate: Rate },
  { additionalProperties: false },
);
const fields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  budget: Money,
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code', examples: ['EUR'], [EXPECTED]: 'an ISO 4217 code in capitals, such as "EUR"' }),
  status: Status,
  start_date: Day,
  end_date: Day,
  pricing: Pricing,
  rules: Type.Record(Type.String(), Type.Unknown(), { maxProperties: 100, description: 'Targeting and serving rules' }),
  product_ids: Type.Array(Uuid, { maxItems: 500, description: "Products it promotes: its advertiser's own; at least one when active" }),
};

export const CampaignStatusQuery = Type.Optional(Status);

export const NewCampaign = Type.Object(
  {
    advertiser_id: Type.Optional(Type.String({ format: 'uuid', description: "Required for admins; an advertiser's own by default" })),
    name: fields.name,
    budget: fields.budget,
    currency: Type.Optional(fields.currency),
    status: Type.Optional(Status),
    start_date: fields.start_date,
    end_date: fields.end_date,
    pricing: Type.Optional(fields.pricing),
    rules: Type.Optional(fields.rules),
    product_ids: Type.Optional(fields.product_ids),
  },
  { additionalProperties: false },
);
export const CampaignPatchBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });

export const Campaign = Type.Object(
  {
    id: Uuid,
    advertiser_id: Uuid,
    ...fields,
    spent: Type.String({ description: 'Read-only: moved by playback events, never above budget' }),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Type.Integer(),
  },
  { additionalProperties: false, description: "An advertiser's campaign" },
);

/** "0.5000" → "0.50", "0.1250" → "0.125": at least two places, no trailing zeros beyond. */
function rateString(value: string): string {
  const [whole, fraction = ''] = value.split('.');
  return `${whole}.${fraction.replace(/0+$/, '').padEnd(2, '0')}`;
}

export function campaignJson({ row, productIds }: CampaignView) {
  return {
    id: row.id,
    advertiser_id: row.advertiser_id,
    name: row.name,
    budget: row.budget,
    spent: row.spent,
    currency: row.currency,
    status: row.status,
    start_date: row.start_date,
    end_date: row.end_date,
    pricing: { model: row.pricing_model, rate: rateString(row.pricing_rate) },
    rules: row.rules,
    product_ids: productIds,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    version: row.version,
  };
}
