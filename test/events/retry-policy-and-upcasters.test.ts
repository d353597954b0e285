/**
 * Rules of the event side: backoff with jitter and the dead-letter decision (pure), and
 * upcasting through the registry (the placement upcaster reads the placement in the
 * transaction it is given, here a real database).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffDelay, decideAfterFailure, type RetryPolicy } from '../../src/platform/events/retry-policy.js';
import { EventTypes } from '../../src/features/catalog/index.js';
import { eventRegistry as registry } from '../../src/entry/event-types.js';
import type { CloudEvent } from '../../src/platform/events/cloud-event.js';
import { openTestDatabase, type TestDatabase } from '../support/engine.js';
import { product, video } from '../support/fixtures.js';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 };

describe('retry policy', () => {
  it('waits between half and all of base × 2^(attempt-1), capped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
        const delay = backoffDelay(attempt, policy, () => r);
        return delay >= Math.floor(full / 2) && delay <= full;
      }),
    );
    expect(backoffDelay(1, policy, () => 0)).toBe(500);
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(4000);
    expect(backoffDelay(30, policy, () => 0)).toBe(30_000);
  });

  it('retries before the maximum and dead-letters at it', () => {
    expect(decideAfterFailure(4, policy, () => 0)).toEqual({ kind: 'retry', delayMs: 4000 });
    expect(decideAfterFailure(5, policy)).toEqual({ kind: 'dead-letter' });
    expect(decideAfterFailure(9, policy)).toEqual({ kind: 'dead-letter' });
  });
});

describe('placement.updated v1 → v2 upcaster', () => {
  let database: TestDatabase;
  let placementId: string;
  let videoId: string;
  const upcast = (event: CloudEvent) => registry.upcast(event, database.db);

  beforeAll(async () => {
    database = await openTestDatabase();
    videoId = await video(database.db);
    const productId = await product(database.db);
    const row = await database.db
      .insertInto('placements')
      .values({ video_id: videoId, product_id: productId, start_time: 3, end_time: 9, position: null, description: null, status: 'active' })
      .returning('id')
      .executeTakeFirstOrThrow();
    placementId = row.id;
  });
  afterAll(async () => {
    await database?.close();
  });

  const v1 = (changes: Record<string, unknown>): CloudEvent => ({
    specversion: '1.0', id: randomUUID(), source: '/placements', type: EventTypes.placementUpdated, time: new Date().toISOString(),
    subject: placementId, datacontenttype: 'application/json', schemaversion: 1,
    data: { placement_id: placementId, changes, previous_version: 1, new_version: 2 },
  });

  it('produces a valid v2 event, taking the time range from the change when it moved both ends', async () => {
    const event = await upcast(v1({ start_time: 4, end_time: 8 }));
    expect(event.schemaversion).toBe(2);
    expect(registry.problems(event)).toEqual([]);
    expect(event.data).toMatchObject({ video_id: videoId, time_range: { start_time: 4, end_time: 8 } });
  });

  it('completes a partial change from the placement as it is now', async () => {
    const event = await upcast(v1({ end_time: 12 }));
    expect(event.data).toMatchObject({ time_range: { start_time: 3, end_time: 12 } });
  });

  it('leaves a current event alone and refuses an unknown placement', async () => {
    const current = { ...v1({}), schemaversion: 2 };
    expect(await upcast(current)).toBe(current);
    await expect(upcast({ ...v1({}), data: { placement_id: randomUUID(), changes: {}, previous_version: 1, new_version: 2 } })).rejects.toThrow(/unknown/);
  });
});
