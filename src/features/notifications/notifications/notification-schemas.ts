/** Notification: the JSON shapes and how a model becomes one. */
import { Type } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../../catalog/index.js';
import type { Notification as NotificationModel } from './notification-model.js';
import { NotificationTypes } from './notification-rules.js';

export const NotificationType = Type.Enum([...NotificationTypes], { description: 'What happened' });

export const Notification = Type.Object(
  {
    id: Uuid,
    advertiser_id: Uuid,
    type: NotificationType,
    subject: Type.String({ description: 'The id of the placement, campaign, video or webhook it is about' }),
    message: Type.String(),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'The data of the event it was made from' }),
    event_id: Uuid,
    created_at: Timestamp,
    read_at: Nullable(Timestamp),
  },
  { additionalProperties: false, description: 'Something that happened to an advertiser’s campaigns, products or webhooks' },
);

export function notificationJson(n: NotificationModel) {
  return {
    id: n.id,
    advertiser_id: n.advertiser_id,
    type: n.type,
    subject: n.subject,
    message: n.message,
    data: n.data,
    event_id: n.event_id,
    created_at: n.created_at.toISOString(),
    read_at: n.read_at ? n.read_at.toISOString() : null,
  };
}
