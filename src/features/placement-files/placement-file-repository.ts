/**
 * The placement-file tables (migration 0007) and the reads the generator makes of the
 * catalog: which videos a change touches, and the state of one video's placements.
 */
import { sql, type Selectable } from 'kysely';
import type { Executor, PlacementFilesTable } from '../../platform/db/schema.js';
import type { CampaignState, FileSnapshot, PlacementState } from './placement-file-rules.js';

export type FileRow = Selectable<PlacementFilesTable>;

/** Counts one more request for the video's file (locking its row until the transaction ends); answers the counters after it. */
export async function bumpRequest(db: Executor, videoId: string): Promise<{ requested: number; generated: number }> {
  const row = await db
    .insertInto('placement_file_requests')
    .values({ video_id: videoId, requested_seq: 1, generated_seq: 0 })
    .onConflict((oc) =>
      oc.column('video_id').doUpdateSet({ requested_seq: sql`placement_file_requests.requested_seq + 1`, updated_at: sql`now()` }),
    )
    .returning(['requested_seq', 'generated_seq'])
    .executeTakeFirstOrThrow();
  return { requested: Number(row.requested_seq), generated: Number(row.generated_seq) };
}

export async function markGenerated(db: Executor, videoId: string, seq: number): Promise<void> {
  await db.updateTable('placement_file_requests').set({ generated_seq: seq, updated_at: new Date() }).where('video_id', '=', videoId).execute();
}

/** Videos with live placements of the product. */
export async function videosOfProduct(db: Executor, productId: string): Promise<string[]> {
  const rows = await db.selectFrom('placements').select('video_id').distinct().where('product_id', '=', productId).where('deleted_at', 'is', null).execute();
  return rows.map((r) => r.video_id);
}

/** Videos with live placements of a product the campaign promotes. */
export async function videosOfCampaign(db: Executor, campaignId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('placements')
    .innerJoin('campaign_products', 'campaign_products.product_id', 'placements.product_id')
    .select('placements.video_id')
    .distinct()
    .where('campaign_products.campaign_id', '=', campaignId)
    .where('placements.deleted_at', 'is', null)
    .execute();
  return rows.map((r) => r.video_id);
}

/** Videos with live placements of the advertiser's products. */
export async function videosOfAdvertiser(db: Executor, advertiserId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('placements')
    .innerJoin('products', 'products.id', 'placements.product_id')
    .select('placements.video_id')
    .distinct()
    .where('products.advertiser_id', '=', advertiserId)
    .where('placements.deleted_at', 'is', null)
    .execute();
  return rows.map((r) => r.video_id);
}

/** What the file of the video is made from; undefined when the video is deleted (or never was). */
export async function loadFileSnapshot(db: Executor, videoId: string, today: string): Promise<FileSnapshot | undefined> {
  const video = await db.selectFrom('videos').select(['duration']).where('id', '=', videoId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!video) return undefined;
  const rows = await db
    .selectFrom('placements')
    .innerJoin('products', 'products.id', 'placements.product_id')
    .innerJoin('advertisers', 'advertisers.id', 'products.advertiser_id')
    .select([
      'placements.id', 'placements.status', 'placements.start_time', 'placements.end_time', 'placements.position',
      'products.id as product_id', 'products.name', 'products.category', 'products.assets', 'products.deleted_at as product_deleted_at',
      'advertisers.deleted_at as advertiser_deleted_at', 'advertisers.status as advertiser_status',
    ])
    .where('placements.video_id', '=', videoId)
    .where('placements.deleted_at', 'is', null)
    .execute();
  const productIds = [...new Set(rows.map((r) => r.product_id))];
  const campaigns = new Map<string, CampaignState[]>();
  if (productIds.length > 0) {
    const campaignRows = await db
      .selectFrom('campaign_products')
      .innerJoin('campaigns', 'campaigns.id', 'campaign_products.campaign_id')
      .select(['campaign_products.product_id', 'campaigns.id', 'campaigns.status', 'campaigns.start_date', 'campaigns.end_date', 'campaigns.budget', 'campaigns.spent', 'campaigns.deleted_at'])
      .where('campaign_products.product_id', 'in', productIds)
      .execute();
    for (const c of campaignRows) {
      const list = campaigns.get(c.product_id) ?? [];
      list.push({ id: c.id, status: c.status, startDate: c.start_date, endDate: c.end_date, budget: Number(c.budget), spent: Number(c.spent), deleted: c.deleted_at !== null });
      campaigns.set(c.product_id, list);
    }
  }
  const placements: PlacementState[] = rows.map((r) => ({
    id: r.id,
    status: r.status,
    startTime: Number(r.start_time),
    endTime: Number(r.end_time),
    position: r.position,
    product: {
      id: r.product_id, name: r.name, category: r.category, assets: r.assets ?? [], deleted: r.product_deleted_at !== null,
      advertiserDeleted: r.advertiser_deleted_at !== null, advertiserStatus: r.advertiser_status, campaigns: campaigns.get(r.product_id) ?? [],
    },
  }));
  return { videoId, duration: Number(video.duration), placements, today };
}

export async function findFile(db: Executor, videoId: string): Promise<FileRow | undefined> {
  return db.selectFrom('placement_files').selectAll().where('video_id', '=', videoId).executeTakeFirst();
}

export async function saveFile(db: Executor, row: Omit<FileRow, 'generated_at'>): Promise<void> {
  const { video_id: _id, ...rest } = row;
  await db
    .insertInto('placement_files')
    .values(row)
    .onConflict((oc) => oc.column('video_id').doUpdateSet({ ...rest, generated_at: sql`now()` }))
    .execute();
}

export async function deleteFile(db: Executor, videoId: string): Promise<boolean> {
  const result = await db.deleteFrom('placement_files').where('video_id', '=', videoId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Points the video's live placements at its file URL (only those that do not yet). */
export async function setFileUrl(db: Executor, videoId: string, fileUrl: string): Promise<void> {
  await db
    .updateTable('placements')
    .set({ file_url: fileUrl })
    .where('video_id', '=', videoId)
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('file_url', 'is', null), eb('file_url', '!=', fileUrl)]))
    .execute();
}

export async function setExpiry(db: Executor, videoId: string, expiresAt: string | null): Promise<void> {
  await db.updateTable('placement_files').set({ expires_at: expiresAt }).where('video_id', '=', videoId).execute();
}

/** Clears an expiry that has passed; answers whether this call did (only one caller does). */
export async function claimExpired(db: Executor, videoId: string): Promise<boolean> {
  const result = await db
    .updateTable('placement_files')
    .set({ expires_at: null })
    .where('video_id', '=', videoId)
    .where('expires_at', '<=', new Date())
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
