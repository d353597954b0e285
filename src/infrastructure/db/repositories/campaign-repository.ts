/**
 * Campaigns in the database. Money travels as decimal strings end to end.
 */
import type { Selectable } from 'kysely';
import { withDomainErrors } from '../errors.js';
import type { CampaignsTable } from '../schema.js';
import type { Executor } from './placement-repository.js';

export type CampaignRecord = Selectable<CampaignsTable>;

export interface NewCampaign {
  id?: string;
  advertiserId: string;
  name: string;
  budget: string;
  spent?: string;
  currency?: string;
  status?: CampaignRecord['status'];
  startDate: string;
  endDate: string;
  pricingModel?: CampaignRecord['pricing_model'];
  pricingRate?: string;
  rules?: Record<string, unknown>;
  createdBy?: string | null;
}

export async function insertCampaign(db: Executor, c: NewCampaign): Promise<CampaignRecord> {
  return withDomainErrors(() =>
    db
      .insertInto('campaigns')
      .values({
        ...(c.id ? { id: c.id } : {}),
        advertiser_id: c.advertiserId,
        name: c.name,
        budget: c.budget,
        ...(c.spent !== undefined ? { spent: c.spent } : {}),
        ...(c.currency ? { currency: c.currency } : {}),
        ...(c.status ? { status: c.status } : {}),
        start_date: c.startDate,
        end_date: c.endDate,
        ...(c.pricingModel ? { pricing_model: c.pricingModel } : {}),
        ...(c.pricingRate !== undefined ? { pricing_rate: c.pricingRate } : {}),
        rules: JSON.stringify(c.rules ?? {}),
        created_by: c.createdBy ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

/** Adds `amount` to `spent`; the database refuses to pass the budget (CAMPAIGN.BUDGET_EXCEEDED). */
export async function addCampaignSpend(db: Executor, id: string, amount: string): Promise<CampaignRecord | undefined> {
  return withDomainErrors(() =>
    db
      .updateTable('campaigns')
      .set((eb) => ({ spent: eb('spent', '+', amount), updated_at: new Date() }))
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst(),
  );
}
