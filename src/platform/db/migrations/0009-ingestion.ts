/**
 * Event ingestion and campaign spend (src/features/ingestion/):
 * - `campaigns.spent_precise`: the exact spend, NUMERIC(19,7). A CPM impression costs the
 *   rate / 1000 and rates have 4 decimals, so 7 decimals hold every price exactly. Expand
 *   step: the column is added and filled from `spent`; `spent` (2 decimals) stays and is
 *   written with the precise value truncated to cents, so readers of `spent` keep working
 *   and `chk_budget` still holds. A contract step may drop `spent` once nothing reads it.
 * - `advertisers.time_zone`: the IANA zone a campaign's days (dates, daily cap, stats) count in;
 * - `ingest_keys`: publishable keys of creators, stored as SHA-256 hashes;
 * - `ingest_event_ids`: every accepted event id with when it was seen (the dedup window);
 * - `ingest_batches`: accepted batches the matcher has not applied yet (the ingestion lag);
 * - `playback_events`, `playback_charges`: raw accepted events and what each was charged,
 *   for audit, partitioned by month (maintenance creates and drops partitions);
 * - `campaign_stats`, `campaign_daily_stats`: the projection the matcher keeps with the spend;
 * - `session_frequency`: impressions charged per campaign, placement and session (frequency cap).
 */
import { sql, type Kysely } from 'kysely';

/** Monthly partitions of the two raw tables for `months` months from `from`'s (maintenance keeps adding them). */
function playbackPartitionsDdl(from: Date, months: number): string {
  const out: string[] = [];
  for (let i = 0; i < months; i++) {
    const start = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + i, 1));
    const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    const suffix = `${start.getUTCFullYear()}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
    for (const table of ['playback_events', 'playback_charges']) {
      out.push(`CREATE TABLE IF NOT EXISTS ${table}_${suffix} PARTITION OF ${table} FOR VALUES FROM ('${start.toISOString().slice(0, 10)}') TO ('${end.toISOString().slice(0, 10)}');`);
    }
  }
  return out.join('\n');
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE advertisers ADD COLUMN time_zone VARCHAR(64) NOT NULL DEFAULT 'UTC';

    ALTER TABLE campaigns ADD COLUMN spent_precise NUMERIC(19, 7) NOT NULL DEFAULT 0;
    UPDATE campaigns SET spent_precise = spent;
    ALTER TABLE campaigns ADD CONSTRAINT chk_spent_precise CHECK (spent_precise >= 0 AND spent_precise <= budget);

    CREATE TABLE ingest_keys (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      creator_id TEXT NOT NULL,
      name VARCHAR(100),
      key_hash CHAR(64) NOT NULL,
      key_prefix VARCHAR(16) NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      created_by TEXT,
      revoked_at TIMESTAMPTZ,
      revoked_by TEXT,
      CONSTRAINT uq_ingest_keys_hash UNIQUE (key_hash)
    );
    CREATE INDEX idx_ingest_keys_creator ON ingest_keys(creator_id, created_at, id);

    CREATE TABLE ingest_event_ids (
      event_id UUID PRIMARY KEY,
      seen_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    );
    CREATE INDEX idx_ingest_event_ids_seen ON ingest_event_ids(seen_at);

    CREATE TABLE ingest_batches (
      batch_id UUID PRIMARY KEY,
      events INTEGER NOT NULL,
      accepted_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    );
    CREATE INDEX idx_ingest_batches_accepted ON ingest_batches(accepted_at);

    CREATE TABLE playback_events (
      received_at TIMESTAMPTZ NOT NULL,
      event_id UUID NOT NULL,
      type VARCHAR(16) NOT NULL,
      placement_id UUID NOT NULL,
      video_id UUID NOT NULL,
      product_id UUID NOT NULL,
      occurred_at TIMESTAMPTZ NOT NULL,
      session_id VARCHAR(128),
      properties JSONB,
      ingest_key_id UUID,
      batch_id UUID NOT NULL,
      PRIMARY KEY (received_at, event_id)
    ) PARTITION BY RANGE (received_at);

    CREATE TABLE playback_charges (
      applied_at TIMESTAMPTZ NOT NULL,
      event_id UUID NOT NULL,
      campaign_id UUID NOT NULL,
      type VARCHAR(16) NOT NULL,
      occurred_at TIMESTAMPTZ NOT NULL,
      day DATE NOT NULL,
      amount NUMERIC(19, 7) NOT NULL,
      outcome VARCHAR(20) NOT NULL,
      PRIMARY KEY (applied_at, event_id),
      CONSTRAINT chk_playback_charge_outcome CHECK (outcome IN ('charged', 'partial', 'free', 'frequency_capped', 'daily_capped', 'budget_capped'))
    ) PARTITION BY RANGE (applied_at);
    CREATE INDEX idx_playback_charges_campaign ON playback_charges(campaign_id, applied_at);

    CREATE TABLE campaign_stats (
      campaign_id UUID PRIMARY KEY,
      impressions BIGINT NOT NULL DEFAULT 0,
      clicks BIGINT NOT NULL DEFAULT 0,
      charged_events BIGINT NOT NULL DEFAULT 0,
      spent NUMERIC(19, 7) NOT NULL DEFAULT 0,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    );

    CREATE TABLE campaign_daily_stats (
      campaign_id UUID NOT NULL,
      day DATE NOT NULL,
      impressions BIGINT NOT NULL DEFAULT 0,
      clicks BIGINT NOT NULL DEFAULT 0,
      spent NUMERIC(19, 7) NOT NULL DEFAULT 0,
      PRIMARY KEY (campaign_id, day)
    );

    CREATE TABLE session_frequency (
      campaign_id UUID NOT NULL,
      placement_id UUID NOT NULL,
      session_id VARCHAR(128) NOT NULL,
      impressions INTEGER NOT NULL DEFAULT 0,
      last_seen_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      PRIMARY KEY (campaign_id, placement_id, session_id)
    );
    CREATE INDEX idx_session_frequency_seen ON session_frequency(last_seen_at);
  `.execute(db);
  await sql.raw(playbackPartitionsDdl(new Date(), 2)).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE session_frequency;
    DROP TABLE campaign_daily_stats;
    DROP TABLE campaign_stats;
    DROP TABLE playback_charges;
    DROP TABLE playback_events;
    DROP TABLE ingest_batches;
    DROP TABLE ingest_event_ids;
    DROP TABLE ingest_keys;
    ALTER TABLE campaigns DROP CONSTRAINT chk_spent_precise;
    ALTER TABLE campaigns DROP COLUMN spent_precise;
    ALTER TABLE advertisers DROP COLUMN time_zone;
  `.execute(db);
}
