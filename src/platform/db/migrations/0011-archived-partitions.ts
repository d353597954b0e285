/**
 * `archived_partitions`: one row per monthly partition the archiver took out of its table
 * (platform/archive/). The row is written in the transaction that detaches the partition
 * (status `detached`) and updated in the one that drops it (status `archived`), so the
 * database always says which detached tables are waiting for their export, and where the
 * verified archive of a dropped one is.
 *
 * Also the indexes of two purges of the retention policy (README, Retention and archival):
 * resolved dead letters by `resolved_at`, finished webhook deliveries by `completed_at`.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE archived_partitions (
      partition_name TEXT PRIMARY KEY,
      parent_table TEXT NOT NULL,
      range_from TIMESTAMPTZ NOT NULL,
      range_to TIMESTAMPTZ NOT NULL,
      status VARCHAR(20) NOT NULL DEFAULT 'detached',
      object_key TEXT NOT NULL,
      manifest_key TEXT NOT NULL,
      row_count BIGINT,
      compressed_bytes BIGINT,
      compressed_sha256 TEXT,
      rows_sha256 TEXT,
      detached_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      archived_at TIMESTAMPTZ,
      last_error TEXT,
      CONSTRAINT chk_archived_partitions_status CHECK (status IN ('detached', 'archived')),
      CONSTRAINT chk_archived_partitions_range CHECK (range_from < range_to)
    );
    CREATE INDEX idx_archived_partitions_parent ON archived_partitions(parent_table, range_from);
    -- The hourly purges of resolved dead letters and finished webhook deliveries walk these.
    CREATE INDEX idx_dead_letters_resolved ON dead_letters(resolved_at) WHERE status <> 'pending';
    CREATE INDEX idx_webhook_deliveries_completed ON webhook_deliveries(completed_at) WHERE status <> 'pending';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX idx_webhook_deliveries_completed;
    DROP INDEX idx_dead_letters_resolved;
    DROP TABLE archived_partitions;
  `.execute(db);
}
