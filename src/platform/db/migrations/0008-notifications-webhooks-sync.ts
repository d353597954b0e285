/**
 * Notifications, webhooks and plugin sync (features/notifications, features/sync):
 * - `notifications`: one row per (advertiser, event) the notifier found concerns it;
 * - `webhooks`: an advertiser's endpoints, their signing secrets (the previous one kept
 *   until `previous_secret_expires_at` while a rotation overlaps), and their health
 *   (`failure_count`, `failing_since`, `status`, `disabled_reason`);
 * - `webhook_deliveries`: one row per (webhook, notification) with its body as sent, its
 *   next attempt and the lease of the dispatcher sending it; `webhook_delivery_attempts`
 *   logs every attempt (status, error, duration);
 * - `sync_changes`: every insert, update or delete of videos, placements and products,
 *   written by triggers in the writing transaction (whoever writes), with that
 *   transaction's id, so the sync feed reads them in commit order the way the outbox
 *   relay reads `event_log` (see features/sync/sync-repository.ts);
 * - `sync_requests`: snapshots the editor plugin asked for, claimed by the sync worker.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE notifications (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      advertiser_id UUID NOT NULL REFERENCES advertisers(id),
      event_id UUID NOT NULL,
      type TEXT NOT NULL,
      subject TEXT NOT NULL,
      message TEXT NOT NULL,
      data JSONB NOT NULL DEFAULT '{}',
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      read_at TIMESTAMPTZ,
      CONSTRAINT uq_notifications_event UNIQUE (advertiser_id, event_id, type)
    );
    CREATE INDEX idx_notifications_advertiser ON notifications(advertiser_id, created_at DESC, id DESC);
    CREATE INDEX idx_notifications_created ON notifications(created_at DESC, id DESC);

    CREATE TABLE webhooks (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      advertiser_id UUID NOT NULL REFERENCES advertisers(id),
      url TEXT NOT NULL,
      event_types TEXT[] NOT NULL,
      secret TEXT NOT NULL,
      previous_secret TEXT,
      previous_secret_expires_at TIMESTAMPTZ,
      status TEXT NOT NULL DEFAULT 'active',
      disabled_reason TEXT,
      disabled_at TIMESTAMPTZ,
      failure_count INTEGER NOT NULL DEFAULT 0,
      failing_since TIMESTAMPTZ,
      last_error TEXT,
      last_success_at TIMESTAMPTZ,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      created_by TEXT,
      deleted_at TIMESTAMPTZ,
      version INTEGER NOT NULL DEFAULT 1,
      CONSTRAINT chk_webhooks_status CHECK (status IN ('active', 'disabled'))
    );
    CREATE INDEX idx_webhooks_advertiser ON webhooks(advertiser_id) WHERE deleted_at IS NULL;

    CREATE TABLE webhook_deliveries (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      webhook_id UUID NOT NULL REFERENCES webhooks(id),
      notification_id UUID NOT NULL REFERENCES notifications(id),
      event_type TEXT NOT NULL,
      payload TEXT NOT NULL,
      status TEXT NOT NULL DEFAULT 'pending',
      attempts INTEGER NOT NULL DEFAULT 0,
      attempts_before_replay INTEGER NOT NULL DEFAULT 0,
      next_attempt_at TIMESTAMPTZ,
      lease_token UUID,
      lease_until TIMESTAMPTZ,
      last_status INTEGER,
      last_error TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      completed_at TIMESTAMPTZ,
      CONSTRAINT uq_webhook_deliveries UNIQUE (webhook_id, notification_id),
      CONSTRAINT chk_webhook_deliveries_status CHECK (status IN ('pending', 'succeeded', 'failed'))
    );
    CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
    CREATE INDEX idx_webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at DESC, id DESC);

    CREATE TABLE webhook_delivery_attempts (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      delivery_id UUID NOT NULL REFERENCES webhook_deliveries(id),
      attempt INTEGER NOT NULL,
      started_at TIMESTAMPTZ NOT NULL,
      duration_ms INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      status_code INTEGER,
      error TEXT,
      CONSTRAINT uq_webhook_delivery_attempts UNIQUE (delivery_id, attempt)
    );

    CREATE SEQUENCE sync_changes_position_seq;
    CREATE TABLE sync_changes (
      position BIGINT NOT NULL DEFAULT nextval('sync_changes_position_seq'),
      tx_id XID8 NOT NULL DEFAULT pg_current_xact_id(),
      entity_type TEXT NOT NULL,
      entity_id UUID NOT NULL,
      version INTEGER NOT NULL,
      deleted BOOLEAN NOT NULL,
      owner_id TEXT,
      audience TEXT NOT NULL,
      data JSONB,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      PRIMARY KEY (tx_id, position)
    );
    ALTER SEQUENCE sync_changes_position_seq OWNED BY sync_changes.position;

    CREATE FUNCTION record_sync_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      row_owner TEXT;
      row_data JSONB;
      r RECORD;
    BEGIN
      IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
      IF TG_TABLE_NAME = 'videos' THEN
        row_owner := r.owner_id;
      ELSIF TG_TABLE_NAME = 'placements' THEN
        SELECT v.owner_id INTO row_owner FROM videos v WHERE v.id = r.video_id;
      END IF;
      row_data := CASE WHEN TG_OP = 'DELETE' OR r.deleted_at IS NOT NULL THEN NULL ELSE to_jsonb(r) END;
      INSERT INTO sync_changes (entity_type, entity_id, version, deleted, owner_id, audience, data)
      VALUES (TG_ARGV[0], r.id, r.version, row_data IS NULL, row_owner, TG_ARGV[1], row_data);
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER videos_sync_change AFTER INSERT OR UPDATE OR DELETE ON videos
      FOR EACH ROW EXECUTE FUNCTION record_sync_change('video', 'owner');
    CREATE TRIGGER placements_sync_change AFTER INSERT OR UPDATE OR DELETE ON placements
      FOR EACH ROW EXECUTE FUNCTION record_sync_change('placement', 'owner');
    CREATE TRIGGER products_sync_change AFTER INSERT OR UPDATE OR DELETE ON products
      FOR EACH ROW EXECUTE FUNCTION record_sync_change('product', 'creators');

    CREATE TABLE sync_requests (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      requested_by TEXT NOT NULL,
      sees_all BOOLEAN NOT NULL,
      correlation_id TEXT,
      status TEXT NOT NULL DEFAULT 'pending',
      attempts INTEGER NOT NULL DEFAULT 0,
      lease_until TIMESTAMPTZ,
      object_key TEXT,
      cursor TEXT,
      changes_count INTEGER,
      error TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      completed_at TIMESTAMPTZ,
      CONSTRAINT chk_sync_requests_status CHECK (status IN ('pending', 'completed', 'failed'))
    );
    CREATE INDEX idx_sync_requests_pending ON sync_requests(created_at) WHERE status = 'pending';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE sync_requests;
    DROP TRIGGER products_sync_change ON products;
    DROP TRIGGER placements_sync_change ON placements;
    DROP TRIGGER videos_sync_change ON videos;
    DROP FUNCTION record_sync_change();
    DROP TABLE sync_changes;
    DROP TABLE webhook_delivery_attempts;
    DROP TABLE webhook_deliveries;
    DROP TABLE webhooks;
    DROP TABLE notifications;
  `.execute(db);
}
