/**
 * Table types for Kysely. One interface per table, columns as the driver returns
 * them after `connect.ts` normalizes types: DECIMAL as string, DATE as 'YYYY-MM-DD',
 * BIGINT as number, TIMESTAMPTZ as Date, JSONB as parsed JSON.
 */
import type { ColumnType, Generated, Insertable, Kysely, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, T | string | undefined, T | string>;
/** DECIMAL: read as string, written as string or number. */
type Decimal = ColumnType<string, string | number, string | number>;
type DecimalDefault = ColumnType<string, string | number | undefined, string | number>;

export interface UsersTable {
  id: string;
  email: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

interface Audited {
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  created_by: string | null;
  deleted_at: Timestamp | null;
  version: Generated<number>;
}

export interface AdvertisersTable extends Audited {
  id: Generated<string>;
  name: string;
  contact_email: string;
  billing_info: Json<Record<string, unknown>> | null;
  status: Generated<'active' | 'suspended'>;
  /** IANA zone a campaign's days count in (0009). */
  time_zone: Generated<string>;
}

export interface CampaignsTable extends Audited {
  id: Generated<string>;
  advertiser_id: string;
  name: string;
  budget: Decimal;
  spent: DecimalDefault;
  currency: Generated<string>;
  status: Generated<'draft' | 'active' | 'paused' | 'completed'>;
  start_date: string;
  end_date: string;
  pricing_model: Generated<'cpm' | 'cpc' | 'flat'>;
  pricing_rate: DecimalDefault;
  rules: Json<Record<string, unknown>>;
}

export interface CampaignProductsTable {
  campaign_id: string;
  product_id: string;
  created_at: Generated<Date>;
}

export interface ProductsTable extends Audited {
  id: Generated<string>;
  advertiser_id: string;
  name: string;
  description: string | null;
  category: string | null;
  assets: Json<unknown[]> | null;
}

export interface VideosTable extends Audited {
  id: Generated<string>;
  owner_id: string | null;
  title: string;
  /** NULL until the analyser has read it (a video made by POST /v1/analyze; migration 0010). */
  duration: Decimal | null;
  source_url: string | null;
  status: Generated<'processing' | 'ready' | 'archived'>;
  metadata: Json<Record<string, unknown>> | null;
  analysis_status: 'queued' | 'processing' | 'completed' | 'failed' | null;
  failure_reason: string | null;
  media_path: string | null;
  /** 0–100 as the analysis stages finish (migration 0010). */
  analysis_progress: Generated<number | null>;
}

export interface PlacementPosition {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacementsTable extends Audited {
  id: Generated<string>;
  video_id: string;
  product_id: string;
  start_time: Decimal;
  end_time: Decimal;
  description: string | null;
  position: Json<PlacementPosition> | null;
  status: Generated<'draft' | 'active' | 'archived'>;
  file_url: string | null;
  /** Copied from the video by a trigger (migration 0014): the tenancy scope of creators' lists. */
  video_owner_id: Generated<string | null>;
  /** Copied from the product by a trigger (migration 0014): the tenancy scope of advertisers' lists. */
  product_advertiser_id: Generated<string>;
}

export interface ValidationRunsTable {
  id: Generated<string>;
  video_id: string;
  status: Generated<'pending' | 'running' | 'completed' | 'failed'>;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  issues: Json<unknown[]> | null;
  summary: Json<Record<string, unknown>> | null;
  created_at: Generated<Date>;
  requested_by: string | null;
  /** Migration 0007. */
  failure_reason: string | null;
}

export interface TranscriptsTable {
  id: Generated<string>;
  video_id: string;
  language: Generated<string>;
  content: string;
  segments: Json<unknown[]>;
  s3_path: string | null;
  /** The WebVTT rendering in object storage (migration 0010). */
  vtt_path: Generated<string | null>;
  created_at: Generated<Date>;
}

export interface EventLogTable {
  id: Generated<string>;
  position: Generated<number>;
  tx_id: Generated<string>;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  data: Json<unknown>;
  metadata: Json<Record<string, unknown>> | null;
  created_at: Generated<Date>;
  created_by: string | null;
}

// --- Idempotency keys (migration 0002) ---
export interface IdempotencyKeysTable {
  caller: string;
  key: string;
  request_hash: string;
  /** NULL while the first request is still running. */
  status: number | null;
  response_headers: Json<Record<string, string>> | null;
  response_body: string | null;
  /** When the key was last claimed: the lease of an in-progress claim counts from here. */
  created_at: Generated<Date>;
  expires_at: Timestamp;
  /** The current claim's random id (migration 0005); NULL for rows claimed before it. */
  claim_id: string | null;
}

// --- Event backbone (migration 0003) ---
export interface OutboxRelayCheckpointsTable {
  name: string;
  tx_id: ColumnType<string, string | undefined, string>;
  position: ColumnType<number, number | undefined, number>;
  owner: string | null;
  lease_until: Timestamp | null;
  relayed_count: ColumnType<number, number | undefined, number>;
  updated_at: Generated<Date>;
}

export interface BusSubscriptionsTable {
  consumer: string;
  event_types: string[];
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface BusEventsTable {
  seq: Generated<number>;
  event_id: string;
  event_type: string;
  event: Json<unknown>;
  published_at: Generated<Date>;
}

export interface BusQueueTable {
  id: Generated<number>;
  consumer: string;
  event_id: string;
  subject: string;
  event: Json<unknown>;
  attempt: Generated<number>;
  available_at: Generated<Date>;
  lease_owner: string | null;
  lease_token: string | null;
  lease_until: Timestamp | null;
  enqueued_at: Generated<Date>;
}

export interface ConsumerInboxTable {
  consumer: string;
  event_id: string;
  processed_at: Generated<Date>;
}

export interface ConsumerFailuresTable {
  consumer: string;
  event_id: string;
  failures: Generated<number>;
  first_attempt_at: Generated<Date>;
  last_attempt_at: Generated<Date>;
  last_error: string;
}

export type DeadLetterStatus = 'pending' | 'replayed' | 'discarded';

export interface DeadLettersTable {
  id: Generated<string>;
  consumer: string;
  event_id: string;
  event_type: string;
  subject: string;
  event: Json<unknown>;
  error: string;
  attempts: number;
  first_attempt_at: Timestamp;
  last_attempt_at: Timestamp;
  status: Generated<DeadLetterStatus>;
  resolved_at: Timestamp | null;
  resolved_by: string | null;
  created_at: Generated<Date>;
}

export interface PlacementDetailsTable {
  placement_id: string;
  video_id: string | null;
  product_id: string | null;
  start_time: ColumnType<string | null, string | number | null, string | number | null>;
  end_time: ColumnType<string | null, string | number | null, string | number | null>;
  version: number;
  deleted: Generated<boolean>;
  last_event_id: string;
  updated_at: Generated<Date>;
}

// --- Placement files (migration 0007) ---
export interface PlacementFileRequestsTable {
  video_id: string;
  requested_seq: ColumnType<number, number | undefined, number>;
  generated_seq: ColumnType<number, number | undefined, number>;
  updated_at: Generated<Date>;
}

export interface PlacementFilesTable {
  video_id: string;
  version: number;
  content_hash: string;
  json_key: string;
  vtt_key: string;
  json_etag: string;
  vtt_etag: string;
  file_url: string;
  placements_count: number;
  /** When a campaign's start or end date changes what the file may show (migration 0007). */
  expires_at: Timestamp | null;
  generated_at: Generated<Date>;
}

// --- Event ingestion and campaign spend (migration 0009) ---
/** NUMERIC(19,7): read as string, written as string. */
type Precise = ColumnType<string, string | undefined, string>;

export interface IngestKeysTable {
  id: Generated<string>;
  creator_id: string;
  name: string | null;
  key_hash: string;
  key_prefix: string;
  created_at: Generated<Date>;
  created_by: string | null;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
}

export interface IngestEventIdsTable {
  event_id: string;
  seen_at: Generated<Date>;
}

export interface IngestBatchesTable {
  batch_id: string;
  events: number;
  accepted_at: Generated<Date>;
  /** The batch's events (0012); NULL for batches accepted before it. */
  payload: ColumnType<unknown, string | null | undefined, string | null>;
}

export interface PlaybackEventsTable {
  received_at: Timestamp;
  event_id: string;
  type: string;
  placement_id: string;
  video_id: string;
  product_id: string;
  occurred_at: Timestamp;
  session_id: string | null;
  properties: Json<Record<string, unknown>> | null;
  ingest_key_id: string | null;
  batch_id: string;
}

export interface PlaybackChargesTable {
  applied_at: Timestamp;
  event_id: string;
  campaign_id: string;
  type: string;
  occurred_at: Timestamp;
  day: string;
  amount: string;
  outcome: string;
}

export interface CampaignStatsTable {
  campaign_id: string;
  impressions: Generated<number>;
  clicks: Generated<number>;
  charged_events: Generated<number>;
  spent: Precise;
  updated_at: Generated<Date>;
}

export interface CampaignDailyStatsTable {
  campaign_id: string;
  day: string;
  impressions: Generated<number>;
  clicks: Generated<number>;
  spent: Precise;
}

export interface SessionFrequencyTable {
  campaign_id: string;
  placement_id: string;
  session_id: string;
  impressions: Generated<number>;
  last_seen_at: Generated<Date>;
}

export interface Database {
  users: UsersTable;
  advertisers: AdvertisersTable;
  campaigns: CampaignsTable;
  campaign_products: CampaignProductsTable;
  products: ProductsTable;
  videos: VideosTable;
  placements: PlacementsTable;
  validation_runs: ValidationRunsTable;
  transcripts: TranscriptsTable;
  event_log: EventLogTable;
  // Idempotency keys (migration 0002).
  idempotency_keys: IdempotencyKeysTable;
  // Event backbone (migration 0003).
  outbox_relay_checkpoints: OutboxRelayCheckpointsTable;
  bus_subscriptions: BusSubscriptionsTable;
  bus_events: BusEventsTable;
  bus_queue: BusQueueTable;
  consumer_inbox: ConsumerInboxTable;
  consumer_failures: ConsumerFailuresTable;
  dead_letters: DeadLettersTable;
  placement_details: PlacementDetailsTable;
  // Placement files (migration 0007).
  placement_file_requests: PlacementFileRequestsTable;
  placement_files: PlacementFilesTable;

  // Event ingestion and campaign spend (migration 0009).
  ingest_keys: IngestKeysTable;
  ingest_event_ids: IngestEventIdsTable;
  ingest_batches: IngestBatchesTable;
  playback_events: PlaybackEventsTable;
  playback_charges: PlaybackChargesTable;
  campaign_stats: CampaignStatsTable;
  campaign_daily_stats: CampaignDailyStatsTable;
  session_frequency: SessionFrequencyTable;
}

export type PlacementRow = Selectable<PlacementsTable>;
export type NewPlacementRow = Insertable<PlacementsTable>;
export type PlacementRowUpdate = Updateable<PlacementsTable>;
export type CampaignRow = Selectable<CampaignsTable>;

/** The database, or a transaction on it: what repositories take. */
export type Executor = Kysely<Database>;

// --- Notifications, webhooks and plugin sync (migration 0008) ---
export interface NotificationsTable {
  id: Generated<string>;
  advertiser_id: string;
  event_id: string;
  type: string;
  subject: string;
  message: string;
  data: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
  read_at: Timestamp | null;
}

export interface WebhooksTable {
  id: Generated<string>;
  advertiser_id: string;
  url: string;
  event_types: string[];
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Timestamp | null;
  status: Generated<'active' | 'disabled'>;
  disabled_reason: string | null;
  disabled_at: Timestamp | null;
  failure_count: Generated<number>;
  failing_since: Timestamp | null;
  last_error: string | null;
  last_success_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  created_by: string | null;
  deleted_at: Timestamp | null;
  version: Generated<number>;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  webhook_id: string;
  notification_id: string;
  event_type: string;
  payload: string;
  status: Generated<'pending' | 'succeeded' | 'failed'>;
  attempts: Generated<number>;
  /** `attempts` when it was last replayed: the retry schedule starts again from there. */
  attempts_before_replay: Generated<number>;
  next_attempt_at: Timestamp | null;
  lease_token: string | null;
  lease_until: Timestamp | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  completed_at: Timestamp | null;
}

export interface WebhookDeliveryAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  attempt: number;
  started_at: Timestamp;
  duration_ms: number;
  outcome: string;
  status_code: number | null;
  error: string | null;
}

export interface SyncChangesTable {
  position: Generated<number>;
  tx_id: Generated<string>;
  entity_type: string;
  entity_id: string;
  version: number;
  deleted: boolean;
  owner_id: string | null;
  audience: string;
  data: Json<Record<string, unknown>> | null;
  created_at: Generated<Date>;
}

export interface SyncRequestsTable {
  id: Generated<string>;
  requested_by: string;
  sees_all: boolean;
  correlation_id: string | null;
  status: Generated<'pending' | 'completed' | 'failed'>;
  attempts: Generated<number>;
  lease_until: Timestamp | null;
  object_key: string | null;
  cursor: string | null;
  changes_count: number | null;
  error: string | null;
  created_at: Generated<Date>;
  completed_at: Timestamp | null;
}

/** Merged into `Database` above (declaration merging keeps each migration's tables in its own section). */
export interface Database {
  notifications: NotificationsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
  sync_changes: SyncChangesTable;
  sync_requests: SyncRequestsTable;
}

/** Migration 0011: the partitions the archiver detached, exported and dropped (platform/archive/). */
export interface ArchivedPartitionsTable {
  partition_name: string;
  parent_table: string;
  range_from: Timestamp;
  range_to: Timestamp;
  status: Generated<'detached' | 'archived'>;
  object_key: string;
  manifest_key: string;
  row_count: number | null;
  compressed_bytes: number | null;
  compressed_sha256: string | null;
  rows_sha256: string | null;
  detached_at: Generated<Date>;
  archived_at: Timestamp | null;
  last_error: string | null;
}

export interface Database {
  archived_partitions: ArchivedPartitionsTable;
}
