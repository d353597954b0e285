/** The `webhooks`, `webhook_deliveries` and `webhook_delivery_attempts` tables, for the use cases. */
import { sql, type Selectable, type Updateable } from 'kysely';
import type { Executor, WebhooksTable } from '../../../platform/db/schema.js';
import { decodeCursor, encodeCursor, type Page, type PageRequest } from '../../../platform/db/keyset-page.js';
import type { DeliveryAttempt, Webhook, WebhookDelivery } from './webhook-model.js';

type WebhookRow = Selectable<WebhooksTable>;

export function toWebhook(row: WebhookRow): Webhook {
  const { secret: _s, previous_secret: _p, created_by: _c, deleted_at: _d, ...rest } = row;
  // The previous secret only counts while its overlap lasts.
  const overlap = row.previous_secret_expires_at && row.previous_secret_expires_at > new Date() ? row.previous_secret_expires_at : null;
  return { ...rest, previous_secret_expires_at: overlap };
}

export async function insertWebhook(
  db: Executor,
  values: { advertiser_id: string; url: string; event_types: string[]; secret: string; created_by: string },
): Promise<Webhook> {
  return toWebhook(await db.insertInto('webhooks').values(values).returningAll().executeTakeFirstOrThrow());
}

export async function findLiveWebhook(db: Executor, id: string): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
}

/** Oldest first (keyset on created_at, id). */
export async function listWebhookRows(db: Executor, advertiserId: string | undefined, page: PageRequest): Promise<Page<Webhook>> {
  let q = db
    .selectFrom('webhooks')
    .selectAll()
    .select(sql<string>`(extract(epoch from created_at) * 1000000)::bigint::text`.as('cursor_micros'))
    .where('deleted_at', 'is', null);
  if (advertiserId) q = q.where('advertiser_id', '=', advertiserId);
  if (page.cursor) {
    const after = decodeCursor(page.cursor);
    q = q.where(sql<boolean>`(created_at, id) > (timestamptz 'epoch' + ${after.micros}::bigint * interval '1 microsecond', ${after.id}::uuid)`);
  }
  const rows = await q.orderBy('created_at').orderBy('id').limit(page.limit + 1).execute();
  const kept = rows.slice(0, page.limit);
  const last = kept[kept.length - 1];
  return {
    items: kept.map(({ cursor_micros: _c, ...row }) => toWebhook(row)),
    nextCursor: rows.length > page.limit && last ? encodeCursor({ micros: last.cursor_micros, id: last.id }) : null,
  };
}

/** Applies `changes` at `version` (bumping it); undefined when the row moved on or is gone. */
export async function updateWebhookAt(db: Executor, id: string, version: number, changes: Updateable<WebhooksTable>): Promise<WebhookRow | undefined> {
  return db
    .updateTable('webhooks')
    .set({ ...changes, version: sql<number>`version + 1`, updated_at: sql<Date>`NOW()` })
    .where('id', '=', id)
    .where('version', '=', version)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Gives up every pending delivery of a webhook (it was disabled or deleted). */
export async function failPendingDeliveries(db: Executor, webhookId: string, reason: string): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', next_attempt_at: null, lease_token: null, lease_until: null, last_error: reason, completed_at: sql<Date>`NOW()`, updated_at: sql<Date>`NOW()` })
    .where('webhook_id', '=', webhookId)
    .where('status', '=', 'pending')
    .execute();
}

async function attemptsOf(db: Executor, deliveryIds: string[]): Promise<Map<string, DeliveryAttempt[]>> {
  const byDelivery = new Map<string, DeliveryAttempt[]>();
  if (deliveryIds.length === 0) return byDelivery;
  const rows = await db
    .selectFrom('webhook_delivery_attempts')
    .select(['delivery_id', 'attempt', 'started_at', 'duration_ms', 'outcome', 'status_code', 'error'])
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('attempt')
    .execute();
  for (const { delivery_id, ...attempt } of rows) {
    const list = byDelivery.get(delivery_id) ?? [];
    list.push(attempt);
    byDelivery.set(delivery_id, list);
  }
  return byDelivery;
}

const DELIVERY_COLUMNS = ['id', 'webhook_id', 'notification_id', 'event_type', 'status', 'attempts', 'next_attempt_at', 'last_status', 'last_error', 'created_at', 'completed_at'] as const;

/** A webhook's deliveries, newest first, each with its attempts. */
export async function listDeliveryRows(db: Executor, webhookId: string, page: PageRequest): Promise<Page<WebhookDelivery>> {
  let q = db
    .selectFrom('webhook_deliveries')
    .select(DELIVERY_COLUMNS)
    .select(sql<string>`(extract(epoch from created_at) * 1000000)::bigint::text`.as('cursor_micros'))
    .where('webhook_id', '=', webhookId);
  if (page.cursor) {
    const after = decodeCursor(page.cursor);
    q = q.where(sql<boolean>`(created_at, id) < (timestamptz 'epoch' + ${after.micros}::bigint * interval '1 microsecond', ${after.id}::uuid)`);
  }
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit + 1).execute();
  const kept = rows.slice(0, page.limit);
  const attempts = await attemptsOf(db, kept.map((r) => r.id));
  const last = kept[kept.length - 1];
  return {
    items: kept.map(({ cursor_micros: _c, ...r }) => ({ ...r, attempt_log: attempts.get(r.id) ?? [] })),
    nextCursor: rows.length > page.limit && last ? encodeCursor({ micros: last.cursor_micros, id: last.id }) : null,
  };
}

export async function findDelivery(db: Executor, id: string): Promise<(WebhookDelivery & { advertiser_id: string; webhook_status: string; webhook_deleted: boolean }) | undefined> {
  const row = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
    .select(DELIVERY_COLUMNS.map((c) => `d.${c}` as const))
    .select(['w.advertiser_id', 'w.status as webhook_status', sql<boolean>`w.deleted_at IS NOT NULL`.as('webhook_deleted')])
    .where('d.id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const attempts = await attemptsOf(db, [row.id]);
  return { ...row, attempt_log: attempts.get(row.id) ?? [] };
}

/** Queues a delivery again, due now; its attempts so far stay in the log. */
export async function requeueDelivery(db: Executor, id: string): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts_before_replay: sql<number>`attempts`, next_attempt_at: sql<Date>`NOW()`, lease_token: null, lease_until: null, completed_at: null, updated_at: sql<Date>`NOW()` })
    .where('id', '=', id)
    .execute();
}
