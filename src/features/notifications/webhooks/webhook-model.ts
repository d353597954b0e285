/** Webhooks and their deliveries as the use cases return them (pure). Secrets are never part of a model. */
export interface Webhook {
  id: string;
  advertiser_id: string;
  url: string;
  event_types: string[];
  status: 'active' | 'disabled';
  disabled_reason: string | null;
  disabled_at: Date | null;
  failure_count: number;
  failing_since: Date | null;
  last_error: string | null;
  last_success_at: Date | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

export interface DeliveryAttempt {
  attempt: number;
  started_at: Date;
  duration_ms: number;
  outcome: string;
  status_code: number | null;
  error: string | null;
}

export interface WebhookDelivery {
  id: string;
  webhook_id: string;
  notification_id: string;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  completed_at: Date | null;
  attempt_log: DeliveryAttempt[];
}
