/**
 * Every partitioned table the archiver takes care of (platform/archive/), with its
 * retention: the archive worker, `npm run cli -- archive` and the Lambda maintenance use
 * this one list.
 */
import type { Config } from '../platform/config/config.js';
import { eventLogArchivePolicy } from '../platform/archive/event-log-policy.js';
import type { ArchivePolicy } from '../platform/archive/partition-archiver.js';
import { ingestionArchivePolicies } from '../features/ingestion/index.js';

export function archivePolicies(config: Pick<Config, 'eventLogRetentionDays' | 'ingestion'>): ArchivePolicy[] {
  return [eventLogArchivePolicy(config.eventLogRetentionDays), ...ingestionArchivePolicies(config.ingestion.rawRetentionDays)];
}
