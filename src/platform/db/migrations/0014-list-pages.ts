/**
 * List pages served from an index in page order, for every filter and tenancy scope.
 *
 * A list page is keyset-ordered by (created_at, id). Without an index whose order is
 * that one, under the list's equality filter, PostgreSQL reads every matching row and
 * sorts them to return 51. Each index below leads with what a list filters on
 * (nothing, a status, a parent id, an owner) and ends with (created_at, id), over live
 * rows only (soft-deleted rows are never listed). The single-column indexes they
 * replace are their prefixes, so every query that used one still has it.
 *
 * Placements are listed by tenancy scope, and the scope is a property of their video
 * (its creator) or product (its advertiser). Both owners are copied onto the row
 * (`video_owner_id`, `product_advertiser_id`) by a BEFORE trigger, whoever writes the
 * row (use cases, workers, SQL typed by hand); neither owner ever changes, so the copy
 * never goes stale. The plugin sync feed's trigger takes the owner from the copy (one
 * lookup fewer per write) and leaves both copies out of the row it records, so the
 * feed's payload is unchanged.
 *
 * `idx_event_log_created` goes: the primary key (created_at, id) serves the same
 * ranges, and every event insert maintained both.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE placements ADD COLUMN video_owner_id TEXT, ADD COLUMN product_advertiser_id UUID;
    UPDATE placements p SET video_owner_id = v.owner_id FROM videos v WHERE v.id = p.video_id;
    UPDATE placements p SET product_advertiser_id = pr.advertiser_id FROM products pr WHERE pr.id = p.product_id;
    ALTER TABLE placements ALTER COLUMN product_advertiser_id SET NOT NULL;

    CREATE FUNCTION copy_placement_owners() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT v.owner_id INTO NEW.video_owner_id FROM videos v WHERE v.id = NEW.video_id;
      SELECT pr.advertiser_id INTO NEW.product_advertiser_id FROM products pr WHERE pr.id = NEW.product_id;
      RETURN NEW;
    END
    $$;
    CREATE TRIGGER placements_copy_owners BEFORE INSERT OR UPDATE OF video_id, product_id, video_owner_id, product_advertiser_id ON placements
      FOR EACH ROW EXECUTE FUNCTION copy_placement_owners();

    CREATE OR REPLACE FUNCTION record_sync_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      row_owner TEXT;
      row_data JSONB;
      r RECORD;
    BEGIN
      IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
      IF TG_TABLE_NAME = 'videos' THEN
        row_owner := r.owner_id;
      ELSIF TG_TABLE_NAME = 'placements' THEN
        row_owner := r.video_owner_id;
      END IF;
      row_data := CASE WHEN TG_OP = 'DELETE' OR r.deleted_at IS NOT NULL THEN NULL
                       ELSE to_jsonb(r) - 'video_owner_id' - 'product_advertiser_id' END;
      INSERT INTO sync_changes (entity_type, entity_id, version, deleted, owner_id, audience, data)
      VALUES (TG_ARGV[0], r.id, r.version, row_data IS NULL, row_owner, TG_ARGV[1], row_data);
      RETURN NULL;
    END
    $$;

    DROP INDEX idx_placements_video;
    DROP INDEX idx_placements_product;
    CREATE INDEX idx_placements_page ON placements(created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_placements_video_page ON placements(video_id, created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_placements_product_page ON placements(product_id, created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_placements_owner_page ON placements(video_owner_id, created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_placements_advertiser_page ON placements(product_advertiser_id, created_at, id) WHERE deleted_at IS NULL;

    DROP INDEX idx_videos_status;
    DROP INDEX idx_videos_owner;
    CREATE INDEX idx_videos_page ON videos(created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_videos_status_page ON videos(status, created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_videos_owner_page ON videos(owner_id, created_at, id) WHERE deleted_at IS NULL;

    DROP INDEX idx_products_advertiser;
    CREATE INDEX idx_products_page ON products(created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_products_advertiser_page ON products(advertiser_id, created_at, id) WHERE deleted_at IS NULL;

    DROP INDEX idx_campaigns_advertiser;
    DROP INDEX idx_campaigns_status;
    CREATE INDEX idx_campaigns_page ON campaigns(created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_campaigns_advertiser_page ON campaigns(advertiser_id, created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_campaigns_status_page ON campaigns(status, created_at, id) WHERE deleted_at IS NULL;

    DROP INDEX idx_advertisers_status;
    CREATE INDEX idx_advertisers_page ON advertisers(created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_advertisers_status_page ON advertisers(status, created_at, id) WHERE deleted_at IS NULL;

    DROP INDEX idx_event_log_created;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX idx_event_log_created ON event_log(created_at);

    DROP INDEX idx_advertisers_status_page;
    DROP INDEX idx_advertisers_page;
    CREATE INDEX idx_advertisers_status ON advertisers(status) WHERE deleted_at IS NULL;

    DROP INDEX idx_campaigns_status_page;
    DROP INDEX idx_campaigns_advertiser_page;
    DROP INDEX idx_campaigns_page;
    CREATE INDEX idx_campaigns_advertiser ON campaigns(advertiser_id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_campaigns_status ON campaigns(status) WHERE deleted_at IS NULL;

    DROP INDEX idx_products_advertiser_page;
    DROP INDEX idx_products_page;
    CREATE INDEX idx_products_advertiser ON products(advertiser_id) WHERE deleted_at IS NULL;

    DROP INDEX idx_videos_owner_page;
    DROP INDEX idx_videos_status_page;
    DROP INDEX idx_videos_page;
    CREATE INDEX idx_videos_status ON videos(status) WHERE deleted_at IS NULL;
    CREATE INDEX idx_videos_owner ON videos(owner_id) WHERE deleted_at IS NULL;

    DROP INDEX idx_placements_advertiser_page;
    DROP INDEX idx_placements_owner_page;
    DROP INDEX idx_placements_product_page;
    DROP INDEX idx_placements_video_page;
    DROP INDEX idx_placements_page;
    CREATE INDEX idx_placements_video ON placements(video_id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_placements_product ON placements(product_id) WHERE deleted_at IS NULL;

    CREATE OR REPLACE FUNCTION record_sync_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
    DROP TRIGGER placements_copy_owners ON placements;
    DROP FUNCTION copy_placement_owners();
    ALTER TABLE placements DROP COLUMN product_advertiser_id, DROP COLUMN video_owner_id;
  `.execute(db);
}
