/**
 * The purges of the retention policy beside the archiver (README, Retention and archival):
 * resolved dead letters after DEAD_LETTER_RETENTION_DAYS (never sooner than the inbox's
 * retention), finished webhook deliveries and their attempts after
 * WEBHOOK_DELIVERY_RETENTION_DAYS; what is pending is never purged.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeFinishedDeliveries } from '../../../src/features/notifications/webhooks/webhook-delivery-purge.js';
import { loadConfig } from '../../../src/platform/config/config.js';
import { runMaintenance } from '../../../src/platform/db/open-database.js';
import { engine, openTestDatabase, type TestDatabase } from '../../support/engine.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
}, 60_000);
afterAll(async () => {
  await database?.close();
});

const daysAgo = (n: number) => sql<Date>`NOW() - make_interval(days => ${n}::int)`;

describe(`retention purges (${engine})`, () => {
  it('purges dead letters resolved longer ago than the retention (and the inbox retention), never pending ones', async () => {
    const letter = (status: string, resolvedDaysAgo: number | null) => sql`
      INSERT INTO dead_letters (consumer, event_id, event_type, subject, event, error, attempts, first_attempt_at, last_attempt_at, status, resolved_at)
      VALUES ('purge-test', ${randomUUID()}, 'com.nedlia.test.purged', 'x', '{}'::jsonb, 'boom', 3, NOW(), NOW(), ${status},
              ${resolvedDaysAgo === null ? null : daysAgo(resolvedDaysAgo)})
      RETURNING id`.execute(database.db).then((r) => (r.rows[0] as { id: string }).id);
    const oldReplayed = await letter('replayed', 100);
    const oldDiscarded = await letter('discarded', 95);
    const recent = await letter('discarded', 30);
    const pending = await letter('pending', null);
    // DEAD_LETTER_RETENTION_DAYS=20 but INBOX_RETENTION_DAYS=40: kept 40 days.
    await runMaintenance(database, pino({ level: 'silent' }), loadConfig({ DEAD_LETTER_RETENTION_DAYS: '20', INBOX_RETENTION_DAYS: '40' }));
    const left = (await database.db.selectFrom('dead_letters').select('id').where('consumer', '=', 'purge-test').execute()).map((r) => r.id);
    expect(left.sort()).toEqual([pending, recent].sort());
    expect(left).not.toContain(oldReplayed);
    expect(left).not.toContain(oldDiscarded);
  });

  it('purges finished webhook deliveries with their attempts after the retention, never pending ones', async () => {
    const [advertiser] = (await sql<{ id: string }>`INSERT INTO advertisers (name, contact_email) VALUES ('Purge', 'p@purge.test') RETURNING id`.execute(database.db)).rows;
    const [webhook] = (await sql<{ id: string }>`
      INSERT INTO webhooks (advertiser_id, url, event_types, secret) VALUES (${advertiser?.id}, 'https://hooks.test/x', ARRAY['*'], 'whsec_x') RETURNING id`.execute(database.db)).rows;
    const delivery = async (status: string, completedDaysAgo: number | null) => {
      const [n] = (await sql<{ id: string }>`
        INSERT INTO notifications (advertiser_id, event_id, type, subject, message) VALUES (${advertiser?.id}, ${randomUUID()}, 'placement.created', 's', 'm') RETURNING id`.execute(database.db)).rows;
      const [d] = (await sql<{ id: string }>`
        INSERT INTO webhook_deliveries (webhook_id, notification_id, event_type, payload, status, attempts, completed_at)
        VALUES (${webhook?.id}, ${n?.id}, 'placement.created', '{}', ${status}, 2, ${completedDaysAgo === null ? null : daysAgo(completedDaysAgo)}) RETURNING id`.execute(database.db)).rows;
      await sql`
        INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at, duration_ms, outcome, status_code)
        VALUES (${d?.id}, 1, NOW(), 12, 'failed', 500), (${d?.id}, 2, NOW(), 10, 'succeeded', 200)`.execute(database.db);
      return d?.id as string;
    };
    const oldSucceeded = await delivery('succeeded', 31);
    const oldFailed = await delivery('failed', 45);
    const recent = await delivery('succeeded', 29);
    const pending = await delivery('pending', null);

    expect(await purgeFinishedDeliveries(database.db, 30, 1)).toBe(2);
    const left = (await database.db.selectFrom('webhook_deliveries').select('id').execute()).map((r) => r.id);
    expect(left.sort()).toEqual([pending, recent].sort());
    const attempts = await database.db.selectFrom('webhook_delivery_attempts').select('delivery_id').execute();
    expect(new Set(attempts.map((a) => a.delivery_id))).toEqual(new Set([pending, recent]));
    expect(left).not.toContain(oldSucceeded);
    expect(left).not.toContain(oldFailed);
    // The notifications stay (they have their own policy).
    expect(Number((await sql<{ n: string }>`SELECT count(*) AS n FROM notifications`.execute(database.db)).rows[0]?.n)).toBe(4);
  });
});
