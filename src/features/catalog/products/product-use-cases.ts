/**
 * Product use cases. Advertisers manage their own products; creators read the
 * products of active advertisers (to place them in videos); admins do everything.
 */
import type { Product } from './product-model.js';
import { mayManageAdvertiserRows, productVisibility } from '../shared/tenancy-rules.js';
import { EventTypes } from '../catalog-events.js';
import { appendEvents } from '../../../platform/events/event-log.js';
import type { Page, PageRequest } from '../../../platform/db/keyset-page.js';
import {
  advertiserIsActive,
  insertProduct,
  listProducts as listRows,
} from './product-repository.js';
import { findLive, softDeleteVersioned, updateVersioned } from '../shared/versioned-rows.js';
import type { Actor } from '../../../platform/events/command-context.js';
import type { Executor } from '../../../platform/db/schema.js';
import { advertiserScope, assertAccess, forbidden, invalid, isAdmin, isCreator, type CatalogCommand, type CatalogDeps } from '../shared/access.js';
import { assertSomethingToChange, matchVersion, sentFields, transact, type ExpectedVersion } from '../shared/transact.js';

export interface NewProductInput {
  advertiser_id?: string;
  name: string;
  description?: string | null;
  category?: string | null;
  assets?: unknown[];
}
export type ProductPatch = Partial<Omit<NewProductInput, 'advertiser_id'>>;

const canWrite = (actor: Actor, row: Product): boolean => mayManageAdvertiserRows(actor, row.advertiser_id);

/** Whether `actor` may see `row` (creators: only products of active advertisers). */
export async function canSeeProduct(db: Executor, actor: Actor, row: Product): Promise<boolean> {
  const visibility = productVisibility(actor, row.advertiser_id);
  return visibility === 'visible' || (visibility === 'visible while the advertiser is active' && advertiserIsActive(db, row.advertiser_id));
}

export async function listProducts(
  deps: CatalogDeps,
  actor: Actor,
  filter: { advertiser_id?: string },
  page: PageRequest,
): Promise<Page<Product>> {
  const own = advertiserScope(actor);
  if (!isAdmin(actor) && own === undefined && !isCreator(actor)) throw forbidden('list products');
  const visibleTo = isAdmin(actor) ? undefined : { ownAdvertiserId: own, activeAdvertisers: isCreator(actor) };
  return listRows(deps.db, { advertiserId: filter.advertiser_id, visibleTo }, page);
}

export async function getProduct(deps: CatalogDeps, actor: Actor, id: string): Promise<Product> {
  const row = await findLive(deps.db, 'products', id);
  assertAccess(row !== undefined && (await canSeeProduct(deps.db, actor, row)), true, 'product', id, 'read');
  return row as Product;
}

export async function createProduct({ db, context }: CatalogCommand, input: NewProductInput): Promise<Product> {
  const { actor } = context;
  const own = advertiserScope(actor);
  let advertiserId: string;
  if (isAdmin(actor)) {
    if (!input.advertiser_id) throw invalid('PRODUCT.ADVERTISER_REQUIRED', 'advertiser_id is required', [{ path: '/advertiser_id', message: 'is required' }]);
    advertiserId = input.advertiser_id;
  } else if (own !== undefined) {
    if (input.advertiser_id !== undefined && input.advertiser_id !== own) {
      throw invalid('PRODUCT.FOREIGN_ADVERTISER', 'a product belongs to your own advertiser', [
        { path: '/advertiser_id', message: 'must be your own advertiser (or left out)' },
      ]);
    }
    advertiserId = own;
  } else {
    throw forbidden('create products');
  }
  return transact(db, async (tx) => {
    const advertiser = await findLive(tx, 'advertisers', advertiserId);
    if (!advertiser) throw invalid('REFERENCE.NOT_FOUND', 'the advertiser does not exist', [{ path: '/advertiser_id', message: 'does not exist' }]);
    const row = await insertProduct(tx, {
      advertiser_id: advertiserId,
      name: input.name,
      description: input.description ?? null,
      category: input.category ?? null,
      assets: JSON.stringify(input.assets ?? []),
      created_by: actor.userId,
    });
    await appendEvents(tx, context, [
      { type: EventTypes.productCreated, subject: row.id, data: { product_id: row.id, advertiser_id: advertiserId, name: row.name } },
    ]);
    return row;
  });
}

export async function updateProduct({ db, context }: CatalogCommand, id: string, expectedVersion: ExpectedVersion, patch: ProductPatch): Promise<Product> {
  return transact(db, async (tx) => {
    const current = await findLive(tx, 'products', id);
    const visible = current !== undefined && (await canSeeProduct(tx, context.actor, current));
    assertAccess(visible, visible && canWrite(context.actor, current!), 'product', id, 'change');
    const version = matchVersion('product', id, current!.version, expectedVersion);
    assertSomethingToChange(patch);
    const row = await updateVersioned(tx, 'products', id, version, sentFields(patch));
    await appendEvents(tx, context, [
      {
        type: EventTypes.productUpdated,
        subject: id,
        data: { product_id: id, changes: sentFields(patch), previous_version: version, new_version: row.version },
      },
    ]);
    return row;
  });
}

/** Its placements are hidden with it: the placement cache forgets them once the transaction is over (other processes by notification). */
export async function deleteProduct(command: CatalogCommand, id: string, expectedVersion: ExpectedVersion): Promise<void> {
  try {
    await removeProduct(command, id, expectedVersion);
  } finally {
    command.placementCache?.clear();
  }
}

async function removeProduct({ db, context }: CatalogCommand, id: string, expectedVersion: ExpectedVersion): Promise<void> {
  await transact(db, async (tx) => {
    const current = await findLive(tx, 'products', id);
    const visible = current !== undefined && (await canSeeProduct(tx, context.actor, current));
    assertAccess(visible, visible && canWrite(context.actor, current!), 'product', id, 'delete');
    const version = matchVersion('product', id, current!.version, expectedVersion);
    const row = await softDeleteVersioned(tx, 'products', id, version);
    await appendEvents(tx, context, [{ type: EventTypes.productDeleted, subject: id, data: { product_id: id, version: row.version } }]);
  });
}
