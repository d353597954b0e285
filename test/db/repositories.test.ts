import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/platform/errors.js';
import { withDomainErrors } from '../../src/platform/db/database-errors.js';
import { catalogConstraints } from '../../src/features/catalog/catalog-constraints.js';
import { addCampaignSpend, insertCampaign } from '../../src/features/catalog/campaigns/campaign-repository.js';
import {
  findPlacement,
  insertPlacement,
  softDeletePlacement,
  updatePlacement,
} from '../../src/features/catalog/placements/placement-repository.js';
import { engine, openTestDatabase, type TestDatabase } from '../support/engine.js';
import { advertiser, product, video } from '../support/fixtures.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

async function domainErrorOf(work: Promise<unknown>): Promise<DomainError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe(`placement repository on ${engine}`, () => {
  it('inserts, reads, updates with a version check and soft-deletes', async () => {
    const db = database.db;
    const [videoId, productId] = [await video(db), await product(db)];
    const created = await insertPlacement(db, {
      videoId, productId, startTime: 1.5, endTime: 12.345, position: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 }, createdBy: 'user-1',
    });
    expect(created).toMatchObject({ videoId, productId, startTime: 1.5, endTime: 12.345, status: 'active', version: 1, createdBy: 'user-1' });
    expect(await findPlacement(db, created.id)).toEqual(created);

    const updated = await updatePlacement(db, created.id, 1, { endTime: 20, description: 'logo on table' });
    expect(updated).toMatchObject({ endTime: 20, description: 'logo on table', version: 2 });

    const stale = await domainErrorOf(updatePlacement(db, created.id, 1, { endTime: 30 }));
    expect(stale.kind).toBe('precondition_failed');
    expect((await findPlacement(db, created.id))?.endTime).toBe(20);

    await softDeletePlacement(db, created.id, 2);
    expect(await findPlacement(db, created.id)).toBeUndefined();
    expect((await domainErrorOf(updatePlacement(db, created.id, 3, { endTime: 40 }))).kind).toBe('not_found');
  });

  it('refuses end_time <= start_time and negative start_time as a domain error', async () => {
    const db = database.db;
    const [videoId, productId] = [await video(db), await product(db)];
    const equal = await domainErrorOf(insertPlacement(db, { videoId, productId, startTime: 5, endTime: 5 }));
    expect(equal).toMatchObject({ kind: 'invalid', code: 'PLACEMENT.INVALID_TIME_RANGE' });
    expect(equal.errors.map((e) => e.path)).toContain('/end_time');
    const negative = await domainErrorOf(insertPlacement(db, { videoId, productId, startTime: -1, endTime: 5 }));
    expect(negative.code).toBe('PLACEMENT.INVALID_TIME_RANGE');

    const ok = await insertPlacement(db, { videoId, productId, startTime: 0, endTime: 5 });
    const shrink = await domainErrorOf(updatePlacement(db, ok.id, ok.version, { endTime: 0 }));
    expect(shrink.code).toBe('PLACEMENT.INVALID_TIME_RANGE');
  });

  it('refuses an unknown status and a missing video as domain errors', async () => {
    const db = database.db;
    const [videoId, productId] = [await video(db), await product(db)];
    const status = await domainErrorOf(
      insertPlacement(db, { videoId, productId, startTime: 0, endTime: 1, status: 'live' as never }),
    );
    expect(status).toMatchObject({ kind: 'invalid', code: 'PLACEMENT.INVALID_STATUS' });
    const missing = await domainErrorOf(insertPlacement(db, { videoId: randomUUID(), productId, startTime: 0, endTime: 1 }));
    expect(missing).toMatchObject({ kind: 'invalid', code: 'REFERENCE.NOT_FOUND' });
    expect(missing.errors).toEqual([{ path: '/video_id', message: 'does not exist' }]);
    // A domain error never carries SQL in its message.
    expect(missing.message).not.toMatch(/insert|violates|foreign key/i);
  });
});

describe(`campaign constraints on ${engine}`, () => {
  it('never lets spent pass budget', async () => {
    const db = database.db;
    const campaign = await insertCampaign(db, {
      advertiserId: await advertiser(db), name: 'Launch', budget: '100.00', startDate: '2026-01-01', endDate: '2026-12-31',
    });
    expect(campaign).toMatchObject({ budget: '100.00', spent: '0.00', status: 'draft', start_date: '2026-01-01' });
    expect((await addCampaignSpend(db, campaign.id, '99.99'))?.spent).toBe('99.99');
    const over = await domainErrorOf(addCampaignSpend(db, campaign.id, '0.02'));
    expect(over).toMatchObject({ kind: 'conflict', code: 'CAMPAIGN.BUDGET_EXCEEDED' });
    expect((await addCampaignSpend(db, campaign.id, '0.01'))?.spent).toBe('100.00');

    const born = await domainErrorOf(insertCampaign(db, {
      advertiserId: await advertiser(db), name: 'x', budget: '10.00', spent: '10.01', startDate: '2026-01-01', endDate: '2026-02-01',
    }));
    expect(born.code).toBe('CAMPAIGN.BUDGET_EXCEEDED');
  });

  it('refuses end_date <= start_date and an unknown status', async () => {
    const db = database.db;
    const advertiserId = await advertiser(db);
    const dates = await domainErrorOf(insertCampaign(db, { advertiserId, name: 'x', budget: '1', startDate: '2026-03-01', endDate: '2026-03-01' }));
    expect(dates).toMatchObject({ kind: 'invalid', code: 'CAMPAIGN.INVALID_DATES', errors: [{ path: '/end_date', message: expect.any(String) }] });
    const status = await domainErrorOf(insertCampaign(db, {
      advertiserId, name: 'x', budget: '1', startDate: '2026-03-01', endDate: '2026-04-01', status: 'running' as never,
    }));
    expect(status.code).toBe('CAMPAIGN.INVALID_STATUS');
  });

  it('keeps video and advertiser CHECKs too', async () => {
    const db = database.db;
    const duration = await domainErrorOf(withDomainErrors(() => video(db, 0), catalogConstraints));
    expect(duration.code).toBe('VIDEO.INVALID_DURATION');
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from videos where duration <= 0`.execute(db);
    expect(rows[0]?.n).toBe(0);
  });
});
