/** Webhooks and deliveries: the JSON shapes and how models become them. */
import { Type } from 'typebox';
import { EXPECTED } from '../../../platform/http/validation.js';
import { Nullable, Timestamp, Uuid } from '../../catalog/index.js';
import { NotificationTypes } from '../notifications/notification-rules.js';
import type { DeliveryAttempt as AttemptModel, Webhook as WebhookModel, WebhookDelivery as DeliveryModel } from './webhook-model.js';
import { SECRET_PATTERN } from './webhook-signing.js';

const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'Where deliveries are POSTed: `https` in production; private and loopback addresses are refused unless FETCH_ALLOW_HOSTS names the host' });
const EventTypesField = Type.Array(Type.Enum(['*', ...NotificationTypes]), {
  minItems: 1, maxItems: 20, description: 'The notification types to deliver; `*` for every type',
});
const Secret = Type.String({
  pattern: SECRET_PATTERN,
  [EXPECTED]: 'a Standard Webhooks secret such as "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" (whsec_ + base64 of 24–64 bytes)',
  description: 'Your own signing secret; one is made for you when left out',
});

export const NewWebhook = Type.Object(
  { advertiser_id: Type.Optional(Uuid), url: Url, event_types: EventTypesField, secret: Type.Optional(Secret) },
  { additionalProperties: false },
);
export const WebhookPatchBody = Type.Object(
  {
    url: Type.Optional(Url),
    event_types: Type.Optional(EventTypesField),
    status: Type.Optional(Type.Enum(['active', 'disabled'], { description: '`active` turns a disabled webhook on again; `disabled` stops deliveries' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const RotateSecretBody = Type.Object(
  {
    secret: Type.Optional(Secret),
    overlap_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600, description: 'How long the current secret keeps signing beside the new one (default 86400; 0 ends it now)' })),
  },
  { additionalProperties: false },
);

export const Webhook = Type.Object(
  {
    id: Uuid,
    advertiser_id: Uuid,
    url: Type.String(),
    event_types: Type.Array(Type.String()),
    status: Type.Enum(['active', 'disabled']),
    disabled_reason: Nullable(Type.String()),
    disabled_at: Nullable(Timestamp),
    failure_count: Type.Integer({ description: 'Attempts failed in a row' }),
    failing_since: Nullable(Timestamp),
    last_error: Nullable(Type.String()),
    last_success_at: Nullable(Timestamp),
    previous_secret_expires_at: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Type.Integer(),
  },
  { additionalProperties: false, description: 'An endpoint notifications are delivered to, signed per Standard Webhooks' },
);
export const WebhookWithSecret = Type.Object(
  { ...Webhook.properties, secret: Type.String({ description: 'The signing secret: shown now and never again' }) },
  { additionalProperties: false },
);

const Attempt = Type.Object(
  {
    attempt: Type.Integer(), started_at: Timestamp, duration_ms: Type.Integer(),
    outcome: Type.Enum(['succeeded', 'failed', 'timeout', 'refused', 'gone']), status_code: Nullable(Type.Integer()), error: Nullable(Type.String()),
  },
  { additionalProperties: false },
);
export const Delivery = Type.Object(
  {
    id: Uuid, webhook_id: Uuid, notification_id: Uuid, event_type: Type.String(),
    status: Type.Enum(['pending', 'succeeded', 'failed']), attempts: Type.Integer(), next_attempt_at: Nullable(Timestamp),
    last_status: Nullable(Type.Integer()), last_error: Nullable(Type.String()), created_at: Timestamp, completed_at: Nullable(Timestamp),
    attempt_log: Type.Array(Attempt),
  },
  { additionalProperties: false, description: 'One notification sent to one webhook, with every attempt' },
);

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

export function webhookJson(w: WebhookModel) {
  return {
    id: w.id, advertiser_id: w.advertiser_id, url: w.url, event_types: w.event_types, status: w.status,
    disabled_reason: w.disabled_reason, disabled_at: iso(w.disabled_at), failure_count: w.failure_count,
    failing_since: iso(w.failing_since), last_error: w.last_error, last_success_at: iso(w.last_success_at),
    previous_secret_expires_at: iso(w.previous_secret_expires_at),
    created_at: w.created_at.toISOString(), updated_at: w.updated_at.toISOString(), version: w.version,
  };
}

const attemptJson = (a: AttemptModel) => ({ ...a, outcome: a.outcome as 'failed', started_at: new Date(a.started_at).toISOString() });

export function deliveryJson(d: DeliveryModel) {
  return {
    id: d.id, webhook_id: d.webhook_id, notification_id: d.notification_id, event_type: d.event_type, status: d.status,
    attempts: d.attempts, next_attempt_at: iso(d.next_attempt_at), last_status: d.last_status, last_error: d.last_error,
    created_at: new Date(d.created_at).toISOString(), completed_at: iso(d.completed_at), attempt_log: d.attempt_log.map(attemptJson),
  };
}
