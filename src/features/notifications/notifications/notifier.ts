/**
 * The notifier (consumer `notifier`): for each placement, campaign and validation event
 * that tells advertisers something (notification-rules.ts), records a notification for
 * every advertiser it concerns and queues its webhook deliveries, in the delivery's
 * transaction (so a redelivered event changes nothing: the inbox, and the unique
 * (advertiser, event, type) of notifications). The webhook dispatcher sends them.
 */
import type { Consumer } from '../../../platform/consumers/consumer.js';
import type { Executor } from '../../../platform/db/schema.js';
import { EventTypes } from '../../catalog/index.js';
import { ValidationEventTypes } from '../../validation/index.js';
import { notificationFor } from './notification-rules.js';
import { recordNotification } from './notification-repository.js';
import { wakeDispatchers } from '../webhooks/webhook-wake.js';

type Data = Record<string, unknown>;
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The advertisers an event concerns (read in the delivery's transaction; deleted rows still count). */
async function concernedAdvertisers(tx: Executor, type: string, data: Data): Promise<string[]> {
  switch (type) {
    case EventTypes.placementCreated: {
      const product = text(data.product_id);
      if (!product) return [];
      const row = await tx.selectFrom('products').select('advertiser_id').where('id', '=', product).executeTakeFirst();
      return row ? [row.advertiser_id] : [];
    }
    case EventTypes.placementUpdated:
    case EventTypes.placementDeleted: {
      const placement = text(data.placement_id);
      if (!placement) return [];
      const row = await tx
        .selectFrom('placements')
        .innerJoin('products', 'products.id', 'placements.product_id')
        .select('products.advertiser_id')
        .where('placements.id', '=', placement)
        .executeTakeFirst();
      return row ? [row.advertiser_id] : [];
    }
    case EventTypes.campaignCreated:
      return text(data.advertiser_id) ? [data.advertiser_id as string] : [];
    case EventTypes.campaignUpdated: {
      const campaign = text(data.campaign_id);
      if (!campaign) return [];
      const row = await tx.selectFrom('campaigns').select('advertiser_id').where('id', '=', campaign).executeTakeFirst();
      return row ? [row.advertiser_id] : [];
    }
    case ValidationEventTypes.videoValidationCompleted: {
      const video = text(data.video_id);
      if (!video) return [];
      const rows = await tx
        .selectFrom('placements')
        .innerJoin('products', 'products.id', 'placements.product_id')
        .select('products.advertiser_id')
        .distinct()
        .where('placements.video_id', '=', video)
        .where('placements.deleted_at', 'is', null)
        .execute();
      return rows.map((r) => r.advertiser_id).sort();
    }
    default:
      return [];
  }
}

export const notifier: Consumer = {
  name: 'notifier',
  types: [
    EventTypes.placementCreated,
    EventTypes.placementUpdated,
    EventTypes.placementDeleted,
    EventTypes.campaignCreated,
    EventTypes.campaignUpdated,
    ValidationEventTypes.videoValidationCompleted,
  ],
  async handle(event, tx, context) {
    const data = (event.data ?? {}) as Data;
    const notification = notificationFor(event.type, data);
    if (!notification) return;
    const advertisers = await concernedAdvertisers(tx, event.type, data);
    let deliveries = 0;
    for (const advertiserId of advertisers) {
      const recorded = await recordNotification(tx, { advertiser_id: advertiserId, event_id: event.id, type: notification.type, subject: event.subject, message: notification.message, data });
      deliveries += recorded.deliveries;
    }
    // Dispatchers in this process look again shortly (after this transaction commits); others poll.
    if (deliveries > 0) wakeDispatchers(25);
    context.logger.debug({ advertisers: advertisers.length, deliveries }, 'notifications recorded');
  },
};
