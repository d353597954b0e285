/** Videos in the database. */
import type { Insertable, Selectable } from 'kysely';
import { withCatalogErrors } from '../catalog-constraints.js';
import type { VideosTable } from '../../../platform/db/schema.js';
import { pageOf, toPage, type Page, type PageRequest } from '../../../platform/db/keyset-page.js';
import type { Executor } from '../../../platform/db/schema.js';

export type VideoRow = Selectable<VideosTable>;

export interface VideoFilter {
  status?: VideoRow['status'];
  /** Tenancy: a creator sees only videos it owns. */
  ownerId?: string;
}

export async function insertVideo(db: Executor, values: Insertable<VideosTable>): Promise<VideoRow> {
  return withCatalogErrors(() => db.insertInto('videos').values(values).returningAll().executeTakeFirstOrThrow());
}

export async function listVideos(db: Executor, filter: VideoFilter, page: PageRequest): Promise<Page<VideoRow>> {
  let query = db.selectFrom('videos').selectAll('videos').where('videos.deleted_at', 'is', null);
  if (filter.status) query = query.where('videos.status', '=', filter.status);
  if (filter.ownerId !== undefined) query = query.where('videos.owner_id', '=', filter.ownerId);
  const rows = await pageOf(query, 'videos', page).execute();
  return toPage(rows, page.limit, ({ cursor_micros: _, ...row }) => row);
}
