/** Products in the database. */
import type { Insertable, Selectable } from 'kysely';
import { withCatalogErrors } from '../catalog-constraints.js';
import type { ProductsTable } from '../../../platform/db/schema.js';
import { pageOf, toPage, type Page, type PageRequest } from '../../../platform/db/keyset-page.js';
import type { Executor } from '../../../platform/db/schema.js';

export type ProductRow = Selectable<ProductsTable>;

export interface ProductFilter {
  advertiserId?: string;
  /**
   * Tenancy, undefined = everything (admins). Otherwise the union of: the products
   * of `ownAdvertiserId` (advertisers) and of active advertisers (creators).
   */
  visibleTo?: { ownAdvertiserId?: string; activeAdvertisers: boolean };
}

export async function insertProduct(db: Executor, values: Insertable<ProductsTable>): Promise<ProductRow> {
  return withCatalogErrors(() => db.insertInto('products').values(values).returningAll().executeTakeFirstOrThrow());
}

/** Whether the product's advertiser is active (creators may only use such products). */
export async function advertiserIsActive(db: Executor, advertiserId: string): Promise<boolean> {
  const row = await db
    .selectFrom('advertisers')
    .select('id')
    .where('id', '=', advertiserId)
    .where('status', '=', 'active')
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}

/** The ids among `ids` that are live products of `advertiserId`. */
export async function productIdsOfAdvertiser(db: Executor, advertiserId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('products')
    .select('id')
    .where('advertiser_id', '=', advertiserId)
    .where('id', 'in', [...ids])
    .where('deleted_at', 'is', null)
    .execute();
  return new Set(rows.map((r) => r.id));
}

export async function listProducts(db: Executor, filter: ProductFilter, page: PageRequest): Promise<Page<ProductRow>> {
  let query = db.selectFrom('products').selectAll('products').where('products.deleted_at', 'is', null);
  if (filter.advertiserId !== undefined) query = query.where('products.advertiser_id', '=', filter.advertiserId);
  const visibleTo = filter.visibleTo;
  if (visibleTo) {
    query = query.where((eb) => {
      const visible = [];
      if (visibleTo.ownAdvertiserId !== undefined) visible.push(eb('products.advertiser_id', '=', visibleTo.ownAdvertiserId));
      if (visibleTo.activeAdvertisers) {
        visible.push(
          eb.exists(
            eb
              .selectFrom('advertisers')
              .select('advertisers.id')
              .whereRef('advertisers.id', '=', 'products.advertiser_id')
              .where('advertisers.status', '=', 'active')
              .where('advertisers.deleted_at', 'is', null),
          ),
        );
      }
      return eb.or(visible);
    });
  }
  const rows = await pageOf(query, 'products', page).execute();
  return toPage(rows, page.limit, ({ cursor_micros: _, ...row }) => row);
}
