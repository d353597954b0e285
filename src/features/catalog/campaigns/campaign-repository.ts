/**
 * Campaigns in the database. Money travels as decimal strings end to end.
 */
import type { Selectable } from 'kysely';
import { withCatalogErrors } from '../catalog-constraints.js';
import type { CampaignsTable } from '../../../platform/db/schema.js';
import { pageOf, toPage, type Page, type PageRequest } from '../../../platform/db/keyset-page.js';
import type { Executor } from '../../../platform/db/schema.js';

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
  return withCatalogErrors(() =>
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
  return withCatalogErrors(() =>
    db
      .updateTable('campaigns')
      .set((eb) => ({ spent: eb('spent', '+', amount), updated_at: new Date() }))
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst(),
  );
}

export interface CampaignFilter {
  status?: CampaignRecord['status'];
  /** A filter, or tenancy: an advertiser sees only its own campaigns. */
  advertiserId?: string;
  /** Campaigns that promote this product. */
  productId?: string;
}

export async function listCampaigns(db: Executor, filter: CampaignFilter, page: PageRequest): Promise<Page<CampaignRecord>> {
  let query = db.selectFrom('campaigns').selectAll('campaigns').where('campaigns.deleted_at', 'is', null);
  if (filter.status) query = query.where('campaigns.status', '=', filter.status);
  if (filter.advertiserId !== undefined) query = query.where('campaigns.advertiser_id', '=', filter.advertiserId);
  if (filter.productId !== undefined) {
    const productId = filter.productId;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('campaign_products')
          .select('campaign_products.product_id')
          .whereRef('campaign_products.campaign_id', '=', 'campaigns.id')
          .where('campaign_products.product_id', '=', productId),
      ),
    );
  }
  const rows = await pageOf(query, 'campaigns', page).execute();
  return toPage(rows, page.limit, ({ cursor_micros: _, ...row }) => row);
}

/** Product ids per campaign, each list sorted. */
export async function productIdsOfCampaigns(db: Executor, campaignIds: readonly string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>(campaignIds.map((id) => [id, []]));
  if (campaignIds.length === 0) return result;
  const rows = await db
    .selectFrom('campaign_products')
    .select(['campaign_id', 'product_id'])
    .where('campaign_id', 'in', [...campaignIds])
    .orderBy('product_id')
    .execute();
  for (const row of rows) result.get(row.campaign_id)?.push(row.product_id);
  return result;
}

/** Makes the campaign promote exactly `productIds`. */
export async function replaceCampaignProducts(db: Executor, campaignId: string, productIds: readonly string[]): Promise<void> {
  await db.deleteFrom('campaign_products').where('campaign_id', '=', campaignId).execute();
  if (productIds.length === 0) return;
  await withCatalogErrors(() =>
    db
      .insertInto('campaign_products')
      .values([...new Set(productIds)].map((product_id) => ({ campaign_id: campaignId, product_id })))
      .execute(),
  );
}
