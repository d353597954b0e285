/**
 * Validation runs in the database, and the snapshot of a video the rules check: its
 * live placements (archived ones are not shown, so not checked) with their products,
 * advertisers and campaigns, read in the transaction given.
 */
import type { Selectable } from 'kysely';
import type { Executor, ValidationRunsTable } from '../../platform/db/schema.js';
import type { Issue, RunStatus, Summary, ValidationRun } from './validation-model.js';
import type { CampaignFacts, PlacementFacts, ProductFacts, VideoSnapshot } from './validation-rules.js';

export function toRun(row: Selectable<ValidationRunsTable>): ValidationRun {
  return {
    id: row.id,
    videoId: row.video_id,
    status: row.status,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    createdAt: row.created_at,
    issues: (row.issues ?? []) as Issue[],
    summary: (row.summary ?? null) as Summary | null,
    failureReason: row.failure_reason,
  };
}

export async function insertRun(db: Executor, videoId: string, requestedBy: string): Promise<ValidationRun> {
  const row = await db.insertInto('validation_runs').values({ video_id: videoId, requested_by: requestedBy }).returningAll().executeTakeFirstOrThrow();
  return toRun(row);
}

export async function findRun(db: Executor, id: string): Promise<ValidationRun | undefined> {
  const row = await db.selectFrom('validation_runs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRun(row);
}

/** Moves the run from `from` to `to`; answers false (and changes nothing) when it is not at `from` any more. */
export async function moveRun(
  db: Executor,
  id: string,
  from: RunStatus,
  to: { status: RunStatus; issues?: Issue[]; summary?: Summary; failureReason?: string },
): Promise<boolean> {
  const now = new Date();
  const result = await db
    .updateTable('validation_runs')
    .set({
      status: to.status,
      ...(to.status === 'running' ? { started_at: now } : { completed_at: now }),
      ...(to.issues ? { issues: JSON.stringify(to.issues) } : {}),
      ...(to.summary ? { summary: JSON.stringify(to.summary) } : {}),
      ...(to.failureReason !== undefined ? { failure_reason: to.failureReason } : {}),
    })
    .where('id', '=', id)
    .where('status', '=', from)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export interface RunsOfVideo {
  items: ValidationRun[];
}

/** The latest runs of a video, newest first. */
export async function latestRuns(db: Executor, videoId: string, limit: number): Promise<ValidationRun[]> {
  const rows = await db.selectFrom('validation_runs').selectAll().where('video_id', '=', videoId).orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
  return rows.map(toRun);
}

/** The video and everything its placements depend on; undefined when the video is gone. */
export async function loadSnapshot(db: Executor, videoId: string, today: string): Promise<VideoSnapshot | undefined> {
  const video = await db.selectFrom('videos').select(['id', 'duration']).where('id', '=', videoId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!video) return undefined;
  const placementRows = await db
    .selectFrom('placements')
    .select(['id', 'product_id', 'start_time', 'end_time', 'position'])
    .where('video_id', '=', videoId)
    .where('deleted_at', 'is', null)
    .where('status', '!=', 'archived')
    .execute();
  const placements: PlacementFacts[] = placementRows.map((r) => ({
    id: r.id, productId: r.product_id, startTime: Number(r.start_time), endTime: Number(r.end_time), position: r.position,
  }));
  const productIds = [...new Set(placements.map((p) => p.productId))];
  const products = new Map<string, ProductFacts>();
  if (productIds.length > 0) {
    const productRows = await db
      .selectFrom('products')
      .innerJoin('advertisers', 'advertisers.id', 'products.advertiser_id')
      .select([
        'products.id', 'products.name', 'products.category', 'products.advertiser_id', 'products.deleted_at',
        'advertisers.deleted_at as advertiser_deleted_at', 'advertisers.status as advertiser_status',
      ])
      .where('products.id', 'in', productIds)
      .execute();
    const campaignRows = await db
      .selectFrom('campaign_products')
      .innerJoin('campaigns', 'campaigns.id', 'campaign_products.campaign_id')
      .select([
        'campaign_products.product_id', 'campaigns.id', 'campaigns.name', 'campaigns.status', 'campaigns.start_date', 'campaigns.end_date',
        'campaigns.budget', 'campaigns.spent', 'campaigns.deleted_at',
      ])
      .where('campaign_products.product_id', 'in', productIds)
      .execute();
    const campaigns = new Map<string, CampaignFacts[]>();
    for (const c of campaignRows) {
      const list = campaigns.get(c.product_id) ?? [];
      list.push({
        id: c.id, name: c.name, status: c.status, startDate: c.start_date, endDate: c.end_date,
        budget: Number(c.budget), spent: Number(c.spent), deleted: c.deleted_at !== null,
      });
      campaigns.set(c.product_id, list);
    }
    for (const p of productRows) {
      products.set(p.id, {
        id: p.id, name: p.name, category: p.category, advertiserId: p.advertiser_id, deleted: p.deleted_at !== null,
        advertiserDeleted: p.advertiser_deleted_at !== null, advertiserStatus: p.advertiser_status, campaigns: campaigns.get(p.id) ?? [],
      });
    }
  }
  return { videoId, duration: Number(video.duration), placements, products, today };
}
