/** The `notifications` table, and the deliveries a new notification queues for its advertiser's webhooks. */
import { sql } from 'kysely';
import type { Executor } from '../../../platform/db/schema.js';
import { decodeCursor, encodeCursor, type Page, type PageRequest } from '../../../platform/db/keyset-page.js';
import type { Notification } from './notification-model.js';
import { deliveredEventType, type NotificationType } from './notification-rules.js';
import { subscribes } from '../webhooks/webhook-rules.js';

export interface NewNotification {
  advertiser_id: string;
  event_id: string;
  type: NotificationType;
  subject: string;
  message: string;
  data: Record<string, unknown>;
}

/** The CloudEvent (structured mode) a notification is delivered as: the body every attempt sends. */
export function notificationCloudEvent(n: Notification): string {
  return JSON.stringify({
    specversion: '1.0',
    id: n.id,
    source: '/v1/notifications',
    type: deliveredEventType(n.type),
    time: n.created_at.toISOString(),
    subject: n.subject,
    datacontenttype: 'application/json',
    data: { advertiser_id: n.advertiser_id, notification_type: n.type, message: n.message, ...n.data },
  });
}

/**
 * Records the notification (once per advertiser, event and type) and queues one
 * delivery per active webhook of the advertiser that subscribes to its type, due now.
 * Returns the number of deliveries queued (0 when the notification existed already).
 */
export async function recordNotification(tx: Executor, input: NewNotification): Promise<{ notification?: Notification; deliveries: number }> {
  const row = await tx
    .insertInto('notifications')
    .values({ ...input, data: JSON.stringify(input.data) })
    .onConflict((oc) => oc.columns(['advertiser_id', 'event_id', 'type']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) return { deliveries: 0 };
  const notification = row as Notification;
  const hooks = await tx
    .selectFrom('webhooks')
    .select(['id', 'event_types'])
    .where('advertiser_id', '=', input.advertiser_id)
    .where('status', '=', 'active')
    .where('deleted_at', 'is', null)
    .execute();
  const targets = hooks.filter((h) => subscribes(h.event_types, input.type));
  if (targets.length > 0) {
    const payload = notificationCloudEvent(notification);
    await tx
      .insertInto('webhook_deliveries')
      .values(targets.map((h) => ({ webhook_id: h.id, notification_id: notification.id, event_type: deliveredEventType(input.type), payload, next_attempt_at: sql<Date>`NOW()` })))
      .onConflict((oc) => oc.columns(['webhook_id', 'notification_id']).doNothing())
      .execute();
  }
  return { notification, deliveries: targets.length };
}

export interface NotificationFilter {
  advertiserId?: string;
  unread?: boolean;
  type?: NotificationType;
}

/** Newest first; the cursor is the last row's (created_at, id), as in keyset-page.ts but descending. */
export async function listNotifications(db: Executor, filter: NotificationFilter, page: PageRequest): Promise<Page<Notification>> {
  let q = db
    .selectFrom('notifications')
    .selectAll()
    .select(sql<string>`(extract(epoch from created_at) * 1000000)::bigint::text`.as('cursor_micros'));
  if (filter.advertiserId) q = q.where('advertiser_id', '=', filter.advertiserId);
  if (filter.unread) q = q.where('read_at', 'is', null);
  if (filter.type) q = q.where('type', '=', filter.type);
  if (page.cursor) {
    const after = decodeCursor(page.cursor);
    q = q.where(sql<boolean>`(created_at, id) < (timestamptz 'epoch' + ${after.micros}::bigint * interval '1 microsecond', ${after.id}::uuid)`);
  }
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit + 1).execute();
  const kept = rows.slice(0, page.limit);
  const last = kept[kept.length - 1];
  return {
    items: kept.map(({ cursor_micros: _c, ...n }) => n as Notification),
    nextCursor: rows.length > page.limit && last ? encodeCursor({ micros: last.cursor_micros, id: last.id }) : null,
  };
}

export async function findNotification(db: Executor, id: string): Promise<Notification | undefined> {
  return (await db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst()) as Notification | undefined;
}

/** Marks it read (once: the first read time stays). */
export async function markRead(db: Executor, id: string): Promise<Notification | undefined> {
  return (await db
    .updateTable('notifications')
    .set({ read_at: sql<Date>`COALESCE(read_at, NOW())` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()) as Notification | undefined;
}

/** Marks every unread notification of the advertiser (or all, for undefined) read; returns how many. */
export async function markAllRead(db: Executor, advertiserId: string | undefined): Promise<number> {
  let q = db.updateTable('notifications').set({ read_at: sql<Date>`NOW()` }).where('read_at', 'is', null);
  if (advertiserId) q = q.where('advertiser_id', '=', advertiserId);
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
