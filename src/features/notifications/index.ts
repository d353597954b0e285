/**
 * Notifications and webhooks: the notifier consumer records what concerns each
 * advertiser, `/v1/notifications` lists it, and the webhook dispatcher (a background
 * worker) delivers it, signed per Standard Webhooks, to the advertiser's endpoints.
 * What other folders may use of it is exported here and only here.
 */
import type { Consumer } from '../../platform/consumers/consumer.js';
import type { EventTypeSet } from '../../platform/events/registry.js';
import type { FeatureRoutes } from '../../platform/http/feature-routes.js';
import type { BackgroundWorker } from '../../platform/workers/background-worker.js';
import { notifier } from './notifications/notifier.js';
import { notificationsRoutes } from './notifications-routes.js';
import { webhookDispatcherWorker } from './notifications-worker.js';

export const notificationsHttp: FeatureRoutes = {
  name: 'notifications',
  routes: notificationsRoutes,
  tags: [
    { name: 'notifications', description: 'What happened to an advertiser’s placements, campaigns, validated videos and webhooks' },
    { name: 'webhooks', description: 'Signed deliveries of notifications to an advertiser’s endpoints (Standard Webhooks)' },
  ],
};

export const notificationConsumers: readonly Consumer[] = [notifier];

/** The notifier consumes catalog and validation events; this feature defines none of its own. */
export const notificationEvents: EventTypeSet = { definitions: [] };

export const notificationWorkers: readonly BackgroundWorker[] = [webhookDispatcherWorker];

export { WebhookDispatcher, type DispatcherOptions } from './webhooks/webhook-dispatcher.js';
export { NotificationTypes, type NotificationType } from './notifications/notification-rules.js';
