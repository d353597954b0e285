/**
 * Campaign use cases. An advertiser manages its own campaigns; admins do
 * everything. A campaign promotes products of its own advertiser, and an active
 * campaign promotes at least one. `spent` is only ever moved by event ingestion.
 */
import type { Campaign } from './campaign-model.js';
import { mayManageAdvertiserRows } from '../shared/tenancy-rules.js';
import type { Updateable } from 'kysely';
import { EventTypes } from '../catalog-events.js';
import { campaignDateErrors, campaignProductErrors, foreignProductErrors } from './campaign-rules.js';
import { appendEvents } from '../../../platform/events/event-log.js';
import {
  insertCampaign,
  listCampaigns as listRows,
  productIdsOfCampaigns,
  replaceCampaignProducts,
  type CampaignRecord,
} from './campaign-repository.js';
import type { Page, PageRequest } from '../../../platform/db/keyset-page.js';
import type { Executor } from '../../../platform/db/schema.js';
import { productIdsOfAdvertiser } from '../products/product-repository.js';
import { findLive, softDeleteVersioned, updateVersioned } from '../shared/versioned-rows.js';
import type { CampaignsTable } from '../../../platform/db/schema.js';
import type { Actor } from '../../../platform/events/command-context.js';
import { advertiserScope, assertAccess, forbidden, invalid, isAdmin, type CatalogCommand, type CatalogDeps } from '../shared/access.js';
import { assertSomethingToChange, matchVersion, sentFields, transact, type ExpectedVersion } from '../shared/transact.js';

export type CampaignStatus = CampaignRecord['status'];

export interface Pricing {
  model: CampaignRecord['pricing_model'];
  rate: string;
}

export interface NewCampaignInput {
  advertiser_id?: string;
  name: string;
  budget: string;
  currency?: string;
  status?: CampaignStatus;
  start_date: string;
  end_date: string;
  pricing?: Pricing;
  rules?: Record<string, unknown>;
  product_ids?: string[];
}
export type CampaignPatch = Partial<Omit<NewCampaignInput, 'advertiser_id'>>;

/** A campaign with the products it promotes. */
export type { Campaign };

const canManage = mayManageAdvertiserRows;

export async function listCampaigns(
  deps: CatalogDeps,
  actor: Actor,
  filter: { status?: CampaignStatus; advertiser_id?: string; product_id?: string },
  page: PageRequest,
): Promise<Page<Campaign>> {
  let advertiserId = filter.advertiser_id;
  if (!isAdmin(actor)) {
    const own = advertiserScope(actor);
    if (own === undefined) throw forbidden('list campaigns');
    if (advertiserId !== undefined && advertiserId !== own) return { items: [], nextCursor: null };
    advertiserId = own;
  }
  const rows = await listRows(deps.db, { status: filter.status, advertiserId, productId: filter.product_id }, page);
  const products = await productIdsOfCampaigns(deps.db, rows.items.map((r) => r.id));
  return { items: rows.items.map((row) => ({ row, productIds: products.get(row.id) ?? [] })), nextCursor: rows.nextCursor };
}

async function loadVisible(db: Executor, actor: Actor, id: string, action: string): Promise<Campaign> {
  const row = await findLive(db, 'campaigns', id);
  assertAccess(row !== undefined && canManage(actor, row.advertiser_id), true, 'campaign', id, action);
  const products = await productIdsOfCampaigns(db, [id]);
  return { row: row!, productIds: products.get(id) ?? [] };
}

export async function getCampaign(deps: CatalogDeps, actor: Actor, id: string): Promise<Campaign> {
  return loadVisible(deps.db, actor, id, 'read');
}

/**
 * Checks `sent` product ids (the advertiser's own, live; undefined = unchanged)
 * and the rule that an active campaign promotes at least one product.
 */
async function checkProducts(
  db: Executor,
  advertiserId: string,
  sent: readonly string[] | undefined,
  productIds: readonly string[],
  status: CampaignStatus,
): Promise<void> {
  if (sent) {
    const errors = foreignProductErrors(sent, await productIdsOfAdvertiser(db, advertiserId, sent));
    if (errors.length > 0) throw invalid('CAMPAIGN.INVALID_PRODUCTS', "a campaign promotes its own advertiser's products", errors);
  }
  const missing = campaignProductErrors(status, productIds);
  if (missing.length > 0) throw invalid('CAMPAIGN.NO_PRODUCTS', 'an active campaign promotes at least one product', missing);
}

function checkDates(start: string, end: string): void {
  const errors = campaignDateErrors(start, end);
  if (errors.length > 0) throw invalid('CAMPAIGN.INVALID_DATES', 'end_date must be after start_date', errors);
}

export async function createCampaign({ db, context }: CatalogCommand, input: NewCampaignInput): Promise<Campaign> {
  const { actor } = context;
  const own = advertiserScope(actor);
  let advertiserId: string;
  if (isAdmin(actor)) {
    if (!input.advertiser_id) throw invalid('CAMPAIGN.ADVERTISER_REQUIRED', 'advertiser_id is required', [{ path: '/advertiser_id', message: 'is required' }]);
    advertiserId = input.advertiser_id;
  } else if (own !== undefined) {
    if (input.advertiser_id !== undefined && input.advertiser_id !== own) {
      throw invalid('CAMPAIGN.FOREIGN_ADVERTISER', 'a campaign belongs to your own advertiser', [
        { path: '/advertiser_id', message: 'must be your own advertiser (or left out)' },
      ]);
    }
    advertiserId = own;
  } else {
    throw forbidden('create campaigns');
  }
  checkDates(input.start_date, input.end_date);
  const productIds = [...new Set(input.product_ids ?? [])];
  return transact(db, async (tx) => {
    if (!(await findLive(tx, 'advertisers', advertiserId))) {
      throw invalid('REFERENCE.NOT_FOUND', 'the advertiser does not exist', [{ path: '/advertiser_id', message: 'does not exist' }]);
    }
    await checkProducts(tx, advertiserId, input.product_ids ?? [], productIds, input.status ?? 'draft');
    const row = await insertCampaign(tx, {
      advertiserId,
      name: input.name,
      budget: input.budget,
      currency: input.currency,
      status: input.status,
      startDate: input.start_date,
      endDate: input.end_date,
      pricingModel: input.pricing?.model,
      pricingRate: input.pricing?.rate,
      rules: input.rules,
      createdBy: actor.userId,
    });
    await replaceCampaignProducts(tx, row.id, productIds);
    await appendEvents(tx, context, [
      {
        type: EventTypes.campaignCreated,
        subject: row.id,
        data: {
          campaign_id: row.id, advertiser_id: advertiserId, name: row.name, budget: row.budget, currency: row.currency,
          status: row.status, start_date: row.start_date, end_date: row.end_date, product_ids: productIds,
        },
      },
    ]);
    return { row, productIds };
  });
}

function columnsOf(patch: CampaignPatch): Updateable<CampaignsTable> {
  const { pricing, product_ids: _, rules, ...plain } = patch;
  return {
    ...plain,
    ...(pricing ? { pricing_model: pricing.model, pricing_rate: pricing.rate } : {}),
    ...(rules !== undefined ? { rules: JSON.stringify(rules) } : {}),
  };
}

export async function updateCampaign({ db, context }: CatalogCommand, id: string, expectedVersion: ExpectedVersion, patch: CampaignPatch): Promise<Campaign> {
  return transact(db, async (tx) => {
    const current = await loadVisible(tx, context.actor, id, 'change');
    const version = matchVersion('campaign', id, current.row.version, expectedVersion);
    assertSomethingToChange(patch);
    checkDates(patch.start_date ?? current.row.start_date, patch.end_date ?? current.row.end_date);
    const productIds = patch.product_ids ? [...new Set(patch.product_ids)] : current.productIds;
    await checkProducts(tx, current.row.advertiser_id, patch.product_ids, productIds, patch.status ?? current.row.status);
    // Changing only the products still bumps the version: the campaign changed.
    const columns = columnsOf(patch);
    const row = await updateVersioned(tx, 'campaigns', id, version, Object.keys(columns).length > 0 ? columns : { name: current.row.name });
    if (patch.product_ids) await replaceCampaignProducts(tx, id, productIds);
    await appendEvents(tx, context, [
      {
        type: EventTypes.campaignUpdated,
        subject: id,
        data: { campaign_id: id, changes: sentFields(patch), previous_version: version, new_version: row.version },
      },
    ]);
    return { row, productIds };
  });
}

export async function deleteCampaign({ db, context }: CatalogCommand, id: string, expectedVersion: ExpectedVersion): Promise<void> {
  await transact(db, async (tx) => {
    const current = await loadVisible(tx, context.actor, id, 'delete');
    const version = matchVersion('campaign', id, current.row.version, expectedVersion);
    const row = await softDeleteVersioned(tx, 'campaigns', id, version);
    await appendEvents(tx, context, [{ type: EventTypes.campaignDeleted, subject: id, data: { campaign_id: id, version: row.version } }]);
  });
}
