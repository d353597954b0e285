/** Notification use cases: an advertiser reads and marks its own; an admin any advertiser's. */
import { DomainError, notFound } from '../../../platform/errors.js';
import { advertiserScope, isAdmin, type Actor } from '../../../platform/auth/actor.js';
import type { Executor } from '../../../platform/db/schema.js';
import type { Page, PageRequest } from '../../../platform/db/keyset-page.js';
import type { Notification } from './notification-model.js';
import type { NotificationType } from './notification-rules.js';
import * as repository from './notification-repository.js';

export interface NotificationDeps {
  db: Executor;
}

/** The advertiser whose notifications `actor` reads: its own, or (admin) the one asked for, or all. */
function scopeOf(actor: Actor, asked: string | undefined): string | undefined | 'none' {
  if (isAdmin(actor)) return asked;
  const own = advertiserScope(actor);
  if (own === undefined) throw new DomainError('forbidden', 'ACCESS.FORBIDDEN', 'your role may not read notifications');
  return asked === undefined || asked === own ? own : 'none';
}

export async function listNotifications(
  deps: NotificationDeps,
  actor: Actor,
  filter: { advertiser_id?: string; unread?: boolean; type?: NotificationType },
  page: PageRequest,
): Promise<Page<Notification>> {
  const scope = scopeOf(actor, filter.advertiser_id);
  if (scope === 'none') return { items: [], nextCursor: null };
  return repository.listNotifications(deps.db, { advertiserId: scope, unread: filter.unread, type: filter.type }, page);
}

async function visible(deps: NotificationDeps, actor: Actor, id: string): Promise<Notification> {
  const scope = scopeOf(actor, undefined);
  const row = await repository.findNotification(deps.db, id);
  if (!row || (scope !== undefined && row.advertiser_id !== scope)) throw notFound('notification', id);
  return row;
}

export async function getNotification(deps: NotificationDeps, actor: Actor, id: string): Promise<Notification> {
  return visible(deps, actor, id);
}

export async function markNotificationRead(deps: NotificationDeps, actor: Actor, id: string): Promise<Notification> {
  await visible(deps, actor, id);
  return (await repository.markRead(deps.db, id)) as Notification;
}

/** Marks every unread notification of the caller's advertiser read (admins name one with `advertiser_id`). */
export async function markAllNotificationsRead(deps: NotificationDeps, actor: Actor, advertiserId: string | undefined): Promise<number> {
  const scope = scopeOf(actor, advertiserId);
  if (scope === 'none') return 0;
  if (scope === undefined) {
    throw new DomainError('invalid', 'NOTIFICATION.ADVERTISER_REQUIRED', 'name the advertiser whose notifications to mark read', [{ path: '/advertiser_id', message: 'is required for admins' }]);
  }
  return repository.markAllRead(deps.db, scope);
}
