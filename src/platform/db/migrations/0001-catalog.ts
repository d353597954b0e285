/**
 * The catalog schema of the seed data architecture: advertisers, campaigns, products,
 * videos, placements, validation runs and the event log (partitioned by month), plus
 * users and transcripts (video analysis) and the campaign ↔ product link.
 *
 * Deviations from the seed, each needed:
 * - user ids (`users.id`, `videos.owner_id`, every `created_by`) are TEXT: they are the
 *   identity provider's `sub`, which is not always a UUID;
 * - a partitioned table's primary key must contain the partition key, so `event_log`
 *   is keyed by `(created_at, id)`; `position` and `tx_id` give the outbox relay a
 *   commit-safe read order;
 * - every catalog row has `version` (optimistic locking) and `created_by` (audit).
 */
import { sql, type Kysely } from 'kysely';
import { monthPartitionsDdl } from '../partitions.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE users (
      id TEXT PRIMARY KEY,
      email VARCHAR(255),
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    );

    CREATE TABLE advertisers (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      name VARCHAR(255) NOT NULL,
      contact_email VARCHAR(255) NOT NULL,
      billing_info JSONB,
      status VARCHAR(50) NOT NULL DEFAULT 'active',
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      created_by TEXT,
      deleted_at TIMESTAMPTZ,
      version INTEGER NOT NULL DEFAULT 1,
      CONSTRAINT chk_status CHECK (status IN ('active', 'suspended'))
    );
    CREATE INDEX idx_advertisers_status ON advertisers(status) WHERE deleted_at IS NULL;

    CREATE TABLE campaigns (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      advertiser_id UUID NOT NULL REFERENCES advertisers(id),
      name VARCHAR(255) NOT NULL,
      budget DECIMAL(12, 2) NOT NULL,
      spent DECIMAL(12, 2) NOT NULL DEFAULT 0,
      currency VARCHAR(3) NOT NULL DEFAULT 'USD',
      status VARCHAR(50) NOT NULL DEFAULT 'draft',
      start_date DATE NOT NULL,
      end_date DATE NOT NULL,
      pricing_model VARCHAR(10) NOT NULL DEFAULT 'cpm',
      pricing_rate DECIMAL(12, 4) NOT NULL DEFAULT 0,
      rules JSONB NOT NULL DEFAULT '{}',
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      created_by TEXT,
      deleted_at TIMESTAMPTZ,
      version INTEGER NOT NULL DEFAULT 1,
      CONSTRAINT chk_budget CHECK (spent <= budget),
      CONSTRAINT chk_budget_positive CHECK (budget >= 0 AND spent >= 0),
      CONSTRAINT chk_dates CHECK (end_date > start_date),
      CONSTRAINT chk_status CHECK (status IN ('draft', 'active', 'paused', 'completed')),
      CONSTRAINT chk_pricing CHECK (pricing_model IN ('cpm', 'cpc', 'flat') AND pricing_rate >= 0)
    );
    CREATE INDEX idx_campaigns_advertiser ON campaigns(advertiser_id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_campaigns_status ON campaigns(status) WHERE deleted_at IS NULL;

    CREATE TABLE products (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      advertiser_id UUID NOT NULL REFERENCES advertisers(id),
      name VARCHAR(255) NOT NULL,
      description TEXT,
      category VARCHAR(100),
      assets JSONB DEFAULT '[]',
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      created_by TEXT,
      deleted_at TIMESTAMPTZ,
      version INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX idx_products_advertiser ON products(advertiser_id) WHERE deleted_at IS NULL;

    CREATE TABLE campaign_products (
      campaign_id UUID NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
      product_id UUID NOT NULL REFERENCES products(id),
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      PRIMARY KEY (campaign_id, product_id)
    );
    CREATE INDEX idx_campaign_products_product ON campaign_products(product_id);

    CREATE TABLE videos (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      owner_id TEXT REFERENCES users(id),
      title VARCHAR(255) NOT NULL,
      duration DECIMAL(10, 3) NOT NULL,
      source_url TEXT,
      status VARCHAR(50) NOT NULL DEFAULT 'processing',
      metadata JSONB DEFAULT '{}',
      analysis_status VARCHAR(20),
      failure_reason TEXT,
      media_path TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      created_by TEXT,
      deleted_at TIMESTAMPTZ,
      version INTEGER NOT NULL DEFAULT 1,
      CONSTRAINT chk_duration CHECK (duration > 0),
      CONSTRAINT chk_status CHECK (status IN ('processing', 'ready', 'archived')),
      CONSTRAINT chk_analysis_status CHECK (
        analysis_status IS NULL OR analysis_status IN ('queued', 'processing', 'completed', 'failed'))
    );
    CREATE INDEX idx_videos_status ON videos(status) WHERE deleted_at IS NULL;
    CREATE INDEX idx_videos_owner ON videos(owner_id) WHERE deleted_at IS NULL;

    CREATE TABLE placements (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      video_id UUID NOT NULL REFERENCES videos(id),
      product_id UUID NOT NULL REFERENCES products(id),
      start_time DECIMAL(10, 3) NOT NULL,
      end_time DECIMAL(10, 3) NOT NULL,
      description TEXT,
      position JSONB,
      status VARCHAR(50) NOT NULL DEFAULT 'active',
      file_url TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      created_by TEXT,
      deleted_at TIMESTAMPTZ,
      version INTEGER NOT NULL DEFAULT 1,
      CONSTRAINT chk_time_range CHECK (end_time > start_time AND start_time >= 0),
      CONSTRAINT chk_status CHECK (status IN ('draft', 'active', 'archived'))
    );
    CREATE INDEX idx_placements_video ON placements(video_id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_placements_product ON placements(product_id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_placements_time ON placements(video_id, start_time, end_time) WHERE deleted_at IS NULL;

    CREATE TABLE validation_runs (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      video_id UUID NOT NULL REFERENCES videos(id),
      status VARCHAR(50) NOT NULL DEFAULT 'pending',
      started_at TIMESTAMPTZ,
      completed_at TIMESTAMPTZ,
      issues JSONB DEFAULT '[]',
      summary JSONB,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      requested_by TEXT,
      CONSTRAINT chk_status CHECK (status IN ('pending', 'running', 'completed', 'failed'))
    );
    CREATE INDEX idx_validation_runs_video ON validation_runs(video_id);
    CREATE INDEX idx_validation_runs_status ON validation_runs(status);

    CREATE TABLE transcripts (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      video_id UUID NOT NULL REFERENCES videos(id),
      language VARCHAR(20) NOT NULL DEFAULT 'en',
      content TEXT NOT NULL,
      segments JSONB NOT NULL DEFAULT '[]',
      s3_path TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      CONSTRAINT uq_transcripts_video UNIQUE (video_id)
    );

    CREATE SEQUENCE event_log_position_seq;
    CREATE TABLE event_log (
      id UUID NOT NULL DEFAULT gen_random_uuid(),
      position BIGINT NOT NULL DEFAULT nextval('event_log_position_seq'),
      tx_id XID8 NOT NULL DEFAULT pg_current_xact_id(),
      event_type VARCHAR(100) NOT NULL,
      aggregate_type VARCHAR(100) NOT NULL,
      aggregate_id UUID NOT NULL,
      data JSONB NOT NULL,
      metadata JSONB DEFAULT '{}',
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      created_by TEXT,
      PRIMARY KEY (created_at, id)
    ) PARTITION BY RANGE (created_at);
    ALTER SEQUENCE event_log_position_seq OWNED BY event_log.position;
    CREATE INDEX idx_event_log_aggregate ON event_log(aggregate_type, aggregate_id);
    CREATE INDEX idx_event_log_type ON event_log(event_type);
    CREATE INDEX idx_event_log_created ON event_log(created_at);
    CREATE INDEX idx_event_log_tx_position ON event_log(tx_id, position);
    CREATE INDEX idx_event_log_id ON event_log(id);
  `.execute(db);
  // Partitions for the current and next months; the service keeps them ahead.
  await sql.raw(monthPartitionsDdl(new Date(), 2)).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE event_log;
    DROP TABLE transcripts;
    DROP TABLE validation_runs;
    DROP TABLE placements;
    DROP TABLE videos;
    DROP TABLE campaign_products;
    DROP TABLE products;
    DROP TABLE campaigns;
    DROP TABLE advertisers;
    DROP TABLE users;
  `.execute(db);
}
