/**
 * What advertisers are told (pure): which catalog events make a notification, of which
 * type, with which message. Who is concerned is read by the notifier (notifier.ts):
 * the advertiser of the placement's product, of the campaign, or of every product
 * placed in the validated video.
 */

/** Notification types: what webhooks subscribe to (`event_types`) and lists filter on. */
export const NotificationTypes = [
  'placement.created',
  'placement.updated',
  'placement.deleted',
  'campaign.created',
  'campaign.status_changed',
  'video.validation_completed',
  'webhook.disabled',
] as const;
export type NotificationType = (typeof NotificationTypes)[number];

/** The CloudEvent type a notification of `type` is delivered as. */
export const deliveredEventType = (type: NotificationType): string => `com.nedlia.notification.${type}`;

type Data = Record<string, unknown>;

/** The notification an event makes, or undefined when it tells advertisers nothing. */
export function notificationFor(eventType: string, data: Data): { type: NotificationType; message: string } | undefined {
  switch (eventType) {
    case 'com.nedlia.placement.created':
      return { type: 'placement.created', message: 'Your product was placed in a video' };
    case 'com.nedlia.placement.updated':
      return { type: 'placement.updated', message: 'A placement of your product changed' };
    case 'com.nedlia.placement.deleted':
      return { type: 'placement.deleted', message: 'A placement of your product was removed' };
    case 'com.nedlia.campaign.created':
      return { type: 'campaign.created', message: `Campaign ${String(data.name ?? '')} was created`.replace('  ', ' ') };
    case 'com.nedlia.campaign.updated': {
      const changes = (data.changes ?? {}) as Data;
      if (typeof changes.status !== 'string') return undefined;
      return { type: 'campaign.status_changed', message: `A campaign is now ${changes.status}` };
    }
    case 'com.nedlia.video.validation_completed':
      return {
        type: 'video.validation_completed',
        message: data.is_valid === true ? 'A video with your products passed validation' : `A video with your products has ${String(data.issues_count ?? 'some')} validation issues`,
      };
    default:
      return undefined;
  }
}
