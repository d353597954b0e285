/**
 * The event backbone's tables (see the glossary in src/platform/events/cloud-event.ts):
 * - `outbox_relay_checkpoints`: per relay (one per bus), the last relayed
 *   `(tx_id, position)` of `event_log` and the lease of the relay currently active;
 * - `bus_subscriptions`, `bus_events`, `bus_queue`: the postgres bus. `bus_events` is its
 *   durable stream (a consumer subscribing later is back-filled from it), `bus_queue`
 *   holds one row per (consumer, event) until acknowledged, with its attempt count,
 *   the time it may next be handed out and the lease of the worker holding it;
 * - `consumer_inbox`: "consumer C processed event E", committed with C's effects;
 * - `consumer_failures`: attempts that failed, so a dead letter knows when they began;
 * - `dead_letters`: events a consumer gave up on, for inspection, replay or discard;
 * - `placement_details`: the read model kept by the projector consumer.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE outbox_relay_checkpoints (
      name TEXT PRIMARY KEY,
      tx_id XID8 NOT NULL DEFAULT '0',
      position BIGINT NOT NULL DEFAULT 0,
      owner TEXT,
      lease_until TIMESTAMPTZ,
      relayed_count BIGINT NOT NULL DEFAULT 0,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    );

    CREATE TABLE bus_subscriptions (
      consumer TEXT PRIMARY KEY,
      event_types TEXT[] NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    );

    CREATE TABLE bus_events (
      seq BIGSERIAL PRIMARY KEY,
      event_id TEXT NOT NULL,
      event_type TEXT NOT NULL,
      event JSONB NOT NULL,
      published_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    );
    CREATE INDEX idx_bus_events_type ON bus_events(event_type, seq);
    CREATE INDEX idx_bus_events_published ON bus_events(published_at);

    CREATE TABLE bus_queue (
      id BIGSERIAL PRIMARY KEY,
      consumer TEXT NOT NULL,
      event_id TEXT NOT NULL,
      subject TEXT NOT NULL,
      event JSONB NOT NULL,
      attempt INTEGER NOT NULL DEFAULT 0,
      available_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      lease_owner TEXT,
      lease_token UUID,
      lease_until TIMESTAMPTZ,
      enqueued_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      CONSTRAINT chk_bus_queue_attempt CHECK (attempt >= 0)
    );
    -- Claims walk a consumer's rows in id order (see postgres-bus.ts).
    CREATE INDEX idx_bus_queue_claim ON bus_queue(consumer, id);
    CREATE INDEX idx_bus_queue_subject ON bus_queue(consumer, subject, id);

    CREATE TABLE consumer_inbox (
      consumer TEXT NOT NULL,
      event_id TEXT NOT NULL,
      processed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      PRIMARY KEY (consumer, event_id)
    );
    CREATE INDEX idx_consumer_inbox_processed ON consumer_inbox(processed_at);

    CREATE TABLE consumer_failures (
      consumer TEXT NOT NULL,
      event_id TEXT NOT NULL,
      failures INTEGER NOT NULL DEFAULT 1,
      first_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      last_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      last_error TEXT NOT NULL,
      PRIMARY KEY (consumer, event_id)
    );

    CREATE TABLE dead_letters (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      consumer TEXT NOT NULL,
      -- TEXT, not UUID: an invalid event (any id) must still be recordable here.
      event_id TEXT NOT NULL,
      event_type TEXT NOT NULL,
      subject TEXT NOT NULL,
      event JSONB NOT NULL,
      error TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      first_attempt_at TIMESTAMPTZ NOT NULL,
      last_attempt_at TIMESTAMPTZ NOT NULL,
      status VARCHAR(20) NOT NULL DEFAULT 'pending',
      resolved_at TIMESTAMPTZ,
      resolved_by TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      CONSTRAINT chk_dead_letter_status CHECK (status IN ('pending', 'replayed', 'discarded'))
    );
    -- One open dead letter per (consumer, event): recording it twice after a crash is a no-op.
    CREATE UNIQUE INDEX uq_dead_letters_pending ON dead_letters(consumer, event_id) WHERE status = 'pending';
    CREATE INDEX idx_dead_letters_created ON dead_letters(created_at DESC);

    CREATE TABLE placement_details (
      placement_id UUID PRIMARY KEY,
      video_id UUID,
      product_id UUID,
      start_time DECIMAL(10, 3),
      end_time DECIMAL(10, 3),
      version INTEGER NOT NULL,
      deleted BOOLEAN NOT NULL DEFAULT FALSE,
      last_event_id UUID NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    );
    CREATE INDEX idx_placement_details_video ON placement_details(video_id) WHERE NOT deleted;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE placement_details;
    DROP TABLE dead_letters;
    DROP TABLE consumer_failures;
    DROP TABLE consumer_inbox;
    DROP TABLE bus_queue;
    DROP TABLE bus_events;
    DROP TABLE bus_subscriptions;
    DROP TABLE outbox_relay_checkpoints;
  `.execute(db);
}
