/** Advertisers in the database. */
import type { Insertable, Selectable } from 'kysely';
import { withCatalogErrors } from '../catalog-constraints.js';
import type { AdvertisersTable } from '../../../platform/db/schema.js';
import { pageOf, toPage, type Page, type PageRequest } from '../../../platform/db/keyset-page.js';
import type { Executor } from '../../../platform/db/schema.js';

export type AdvertiserRow = Selectable<AdvertisersTable>;

export interface AdvertiserFilter {
  status?: AdvertiserRow['status'];
  /** Tenancy: only this advertiser (an advertiser sees its own row). */
  onlyId?: string;
}

export async function insertAdvertiser(db: Executor, values: Insertable<AdvertisersTable>): Promise<AdvertiserRow> {
  return withCatalogErrors(() => db.insertInto('advertisers').values(values).returningAll().executeTakeFirstOrThrow());
}

export async function listAdvertisers(db: Executor, filter: AdvertiserFilter, page: PageRequest): Promise<Page<AdvertiserRow>> {
  let query = db.selectFrom('advertisers').selectAll('advertisers').where('advertisers.deleted_at', 'is', null);
  if (filter.status) query = query.where('advertisers.status', '=', filter.status);
  if (filter.onlyId !== undefined) query = query.where('advertisers.id', '=', filter.onlyId);
  const rows = await pageOf(query, 'advertisers', page).execute();
  return toPage(rows, page.limit, ({ cursor_micros: _, ...row }) => row);
}
