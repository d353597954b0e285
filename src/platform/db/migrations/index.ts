/**
 * Every migration, in order. A migration is a file `NNNN-name.ts` exporting `up` and
 * `down`; add it here too (a static list keeps bundled and Lambda builds working).
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001-catalog.js';
import * as m0002 from './0002-idempotency.js';
import * as m0003 from './0003-event-backbone.js';
import * as m0004 from './0004-row-change-notifications.js';
import * as m0005 from './0005-idempotency-claims.js';
import * as m0006 from './0006-inbox-retention.js';
import * as m0007 from './0007-placement-files.js';
import * as m0008 from './0008-notifications-webhooks-sync.js';
import * as m0009 from './0009-ingestion.js';
import * as m0010 from './0010-video-analysis.js';
import * as m0011 from './0011-archived-partitions.js';
import * as m0012 from './0012-ingest-batch-payload.js';
import * as m0014 from './0014-list-pages.js';
import * as m0015 from './0015-validation-run-notifications.js';

export const migrations: Record<string, Migration> = {
  '0001-catalog': m0001,
  '0002-idempotency': m0002,
  '0003-event-backbone': m0003,
  '0004-row-change-notifications': m0004,
  '0005-idempotency-claims': m0005,
  '0006-inbox-retention': m0006,
  '0007-placement-files': m0007,
  '0008-notifications-webhooks-sync': m0008,
  '0009-ingestion': m0009,
  '0010-video-analysis': m0010,
  '0011-archived-partitions': m0011,
  '0012-ingest-batch-payload': m0012,
  '0014-list-pages': m0014,
  '0015-validation-run-notifications': m0015,
};
