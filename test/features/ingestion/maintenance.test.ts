/** Ingestion's housekeeping: raw partitions made ahead (the archiver takes the old ones: test/platform/archive/), dedup ids purged after the window. */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine, openTestDatabase, type TestDatabase } from '../../support/engine.js';
import { ensurePartitions, purgeDedupIds, runIngestionMaintenance } from '../../../src/features/ingestion/operations/ingestion-maintenance.js';
import { listPartitions } from '../../../src/features/ingestion/operations/ingestion-status-repository.js';
import { ingestionWorkers } from '../../../src/features/ingestion/index.js';
import { allWorkers } from '../../../src/entry/workers.js';
import { loadConfig } from '../../../src/platform/config/config.js';
import { dropPartition, partitionName } from '../../../src/platform/db/partitions.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

const names = async () => (await listPartitions(database.db)).map((p) => p.name);

describe(`ingestion maintenance (${engine})`, () => {
  it('creates the months ahead and leaves the months past the retention to the archiver', async () => {
    const now = new Date(Date.UTC(2027, 4, 15));
    await ensurePartitions(database.db, new Date(Date.UTC(2027, 0, 10)), 0);
    await ensurePartitions(database.db, now);
    const made = await names();
    for (const month of ['2027_01', '2027_05', '2027_06', '2027_07', '2027_08']) {
      expect(made).toContain(`playback_events_${month}`);
      expect(made).toContain(`playback_charges_${month}`);
    }
    // Idempotent; January is past the 90 days but only the archiver (verified export first) removes it.
    await runIngestionMaintenance(database.db, { windowDays: 30, rawRetentionDays: 90 }, pino({ level: 'silent' }), now);
    expect(await names()).toContain('playback_events_2027_08');
    expect(await names()).toContain('playback_events_2027_01');
  });

  it('forgets event ids once the window and its 2 grace days are over', async () => {
    const now = new Date();
    const old = randomUUID();
    const recent = randomUUID();
    await database.db.insertInto('ingest_event_ids').values([
      { event_id: old, seen_at: new Date(now.getTime() - 33 * 86_400_000) },
      { event_id: recent, seen_at: new Date(now.getTime() - 31 * 86_400_000) },
    ]).execute();
    expect(await purgeDedupIds(database.db, 30, now)).toBe(1);
    const left = (await database.db.selectFrom('ingest_event_ids').select('event_id').execute()).map((r) => r.event_id);
    expect(left).toContain(recent);
    expect(left).not.toContain(old);
  });

  it('runs in worker processes too: a deployment of workers only makes this month and the next 3', async () => {
    expect(allWorkers.map((w) => w.name)).toContain('ingestion-maintenance');
    const month = (offset: number) => {
      const now = new Date();
      return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
    };
    const wanted = [0, 1, 2, 3].flatMap((i) => ['playback_events', 'playback_charges'].map((t) => partitionName(month(i), t)));
    // As if no API process ever ran: none of these months exists (the raw tables are empty here).
    for (const name of wanted) await dropPartition(database.db, name);
    expect((await names()).filter((n) => wanted.includes(n))).toEqual([]);
    const worker = ingestionWorkers.find((w) => w.name === 'ingestion-maintenance')!;
    const running = await worker.start({ config: loadConfig({}), database, logger: pino({ level: 'silent' }) });
    try {
      // Made before start resolves, i.e. before the process goes on.
      expect(await names()).toEqual(expect.arrayContaining(wanted));
    } finally {
      await running.stop();
    }
  });
});
