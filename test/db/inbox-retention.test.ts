/**
 * Retention of the consumer inbox on the selected engine: rows older than the
 * retention go, newer ones stay, the purge works in bounded batches until done, the
 * rows a dead-letter replay relies on are kept, and the hourly maintenance purges with
 * the configured INBOX_RETENTION_DAYS.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config/config.js';
import type { CloudEvent } from '../../src/platform/events/cloud-event.js';
import { EventTypes } from '../../src/features/catalog/index.js';
import { PostgresBus } from '../../src/platform/bus/postgres/postgres-bus.js';
import type { Consumer } from '../../src/platform/consumers/consumer.js';
import { ConsumerRuntime } from '../../src/platform/consumers/consumer-runtime.js';
import { runMaintenance } from '../../src/platform/db/open-database.js';
import { insertDeadLetter, resolveDeadLetter } from '../../src/platform/events/dead-letter-repository.js';
import { purgeExpiredInbox } from '../../src/platform/events/inbox-repository.js';
import { capturingLogger, placementCreated, silentLogger } from '../events/support.js';
import { configErrorOf } from '../support/config-error.js';
import { engine, openTestDatabase, type TestDatabase } from '../support/engine.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});
// The purge works on the whole table: every test starts from an empty inbox.
beforeEach(async () => {
  await sql`TRUNCATE consumer_inbox, dead_letters, consumer_failures`.execute(database.db);
});

const DAY = 24;

/** Records that `consumer` processed `eventId` `hoursAgo` hours ago (database clock). */
async function processed(consumer: string, eventId: string, hoursAgo: number): Promise<void> {
  await database.db
    .insertInto('consumer_inbox')
    .values({ consumer, event_id: eventId, processed_at: sql<Date>`NOW() - make_interval(hours => ${hoursAgo}::int)` })
    .execute();
}

async function inboxKeys(): Promise<string[]> {
  const rows = await database.db.selectFrom('consumer_inbox').select(['consumer', 'event_id']).execute();
  return rows.map((r) => `${r.consumer}/${r.event_id}`).sort();
}

async function countOlderThan(hours: number): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM consumer_inbox WHERE processed_at < NOW() - make_interval(hours => ${hours}::int)`.execute(database.db);
  return Number(rows[0]?.n);
}

async function deadLetter(consumer: string, event: CloudEvent): Promise<string> {
  await insertDeadLetter(database.db, { consumer, event, error: 'Error: boom', attempts: 5 });
  const row = await database.db
    .selectFrom('dead_letters')
    .select('id')
    .where('consumer', '=', consumer)
    .where('event_id', '=', event.id)
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return row.id;
}

describe(`consumer inbox retention (${engine})`, () => {
  it('deletes the rows processed before the retention and keeps the newer ones', async () => {
    const [a, b, c, d, e] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await processed('projector', a, 15 * DAY);
    await processed('mailer', b, 14 * DAY + 1);
    await processed('projector', c, 14 * DAY - 1);
    await processed('mailer', d, 1);
    await processed('projector', e, 0);

    expect(await purgeExpiredInbox(database.db, { retentionDays: 14 })).toEqual({ deleted: 2, batches: 1 });
    expect(await inboxKeys()).toEqual([`projector/${c}`, `mailer/${d}`, `projector/${e}`].sort());

    // A shorter retention reaches further back.
    expect(await purgeExpiredInbox(database.db, { retentionDays: 1 })).toEqual({ deleted: 1, batches: 1 });
    expect(await inboxKeys()).toEqual([`mailer/${d}`, `projector/${e}`].sort());
  });

  it('deletes in batches of the given size, looping until a batch comes back short', async () => {
    for (let i = 0; i < 25; i++) await processed(`consumer-${i % 3}`, randomUUID(), 20 * DAY + i);
    for (let i = 0; i < 3; i++) await processed('consumer-0', randomUUID(), i);

    // 6 full batches of 4, then one of 1.
    expect(await purgeExpiredInbox(database.db, { retentionDays: 14, batchSize: 4 })).toEqual({ deleted: 25, batches: 7 });
    expect(await countOlderThan(14 * DAY)).toBe(0);
    expect((await inboxKeys()).length).toBe(3);

    // A multiple of the batch size ends with an empty batch; nothing left ends at once.
    for (let i = 0; i < 8; i++) await processed('consumer-1', randomUUID(), 30 * DAY);
    expect(await purgeExpiredInbox(database.db, { retentionDays: 14, batchSize: 4 })).toEqual({ deleted: 8, batches: 3 });
    expect(await purgeExpiredInbox(database.db, { retentionDays: 14, batchSize: 4 })).toEqual({ deleted: 0, batches: 1 });
    expect((await inboxKeys()).length).toBe(3);
  });

  it('two purges at once delete every old row once', async () => {
    for (let i = 0; i < 40; i++) await processed(`consumer-${i % 4}`, randomUUID(), 20 * DAY);
    await processed('consumer-0', randomUUID(), 1);
    const results = await Promise.all([
      purgeExpiredInbox(database.db, { retentionDays: 14, batchSize: 3 }),
      purgeExpiredInbox(database.db, { retentionDays: 14, batchSize: 3 }),
    ]);
    expect(results[0]!.deleted + results[1]!.deleted).toBe(40);
    expect(await countOlderThan(14 * DAY)).toBe(0);
    expect((await inboxKeys()).length).toBe(1);
  });

  it('keeps the rows of events a dead letter may still publish again', async () => {
    const pending = placementCreated();
    const replayedRecently = placementCreated();
    const replayedLongAgo = placementCreated();
    const discarded = placementCreated();
    const dueAgain = placementCreated(); // replayed long ago, then dead-lettered again
    const plain = placementCreated();
    for (const event of [pending, replayedRecently, replayedLongAgo, discarded, dueAgain, plain]) {
      await processed('projector', event.id, 20 * DAY);
      await processed('mailer', event.id, 20 * DAY);
    }

    await deadLetter('indexer', pending);
    await resolveDeadLetter(database.db, await deadLetter('indexer', replayedRecently), 'replayed', 'admin-1');
    await resolveDeadLetter(database.db, await deadLetter('indexer', replayedLongAgo), 'replayed', 'admin-1');
    await resolveDeadLetter(database.db, await deadLetter('indexer', discarded), 'discarded', 'admin-1');
    await resolveDeadLetter(database.db, await deadLetter('indexer', dueAgain), 'replayed', 'admin-1');
    await deadLetter('indexer', dueAgain);
    await sql`UPDATE dead_letters SET resolved_at = NOW() - interval '15 days'
              WHERE event_id IN (${replayedLongAgo.id}, ${dueAgain.id}) AND status = 'replayed'`.execute(database.db);

    const result = await purgeExpiredInbox(database.db, { retentionDays: 14, batchSize: 2 });
    expect(result.deleted).toBe(6);
    const kept = [pending, replayedRecently, dueAgain].flatMap((e) => [`mailer/${e.id}`, `projector/${e.id}`]);
    expect(await inboxKeys()).toEqual(kept.sort());

    // What the rows are kept for: replaying the pending dead letter reaches the consumers
    // that processed the event weeks ago, and they skip it.
    let handled = 0;
    const projector: Consumer = {
      name: 'projector',
      types: [EventTypes.placementCreated],
      maxAttempts: 3,
      handle: async () => void handled++,
    };
    const runtime = new ConsumerRuntime({ db: database.db, bus: new PostgresBus(database.db), logger: silentLogger() });
    expect(await runtime.handleDelivery(projector, { event: pending, attempt: 1 })).toEqual({ kind: 'ack' });
    expect(handled).toBe(0);
    // An event whose rows were purged is handled as new.
    expect(await runtime.handleDelivery(projector, { event: discarded, attempt: 1 })).toEqual({ kind: 'ack' });
    expect(handled).toBe(1);
  });

  it('runs in the hourly maintenance with INBOX_RETENTION_DAYS', async () => {
    const [older, newer] = [randomUUID(), randomUUID()];
    await processed('projector', older, 4 * DAY);
    await processed('projector', newer, 2 * DAY);
    const { logger, lines } = capturingLogger();
    await runMaintenance(database, logger, loadConfig({ INBOX_RETENTION_DAYS: '3' }));
    expect(lines.filter((l) => l.msg === 'maintenance task failed')).toEqual([]);
    expect(await inboxKeys()).toEqual([`projector/${newer}`]);
  });

  it('INBOX_RETENTION_DAYS defaults to 14 days and takes 1 to 3650', () => {
    expect(loadConfig({}).inboxRetentionDays).toBe(14);
    expect(loadConfig({ INBOX_RETENTION_DAYS: '1' }).inboxRetentionDays).toBe(1);
    expect(loadConfig({ INBOX_RETENTION_DAYS: '3650' }).inboxRetentionDays).toBe(3650);
    for (const bad of ['0', '3651', '2.5', 'two']) {
      expect(configErrorOf({ INBOX_RETENTION_DAYS: bad }).message).toBe(`INBOX_RETENTION_DAYS: expected an integer from 1 to 3650, got "${bad}"`);
    }
  });
});
