/** Pure rules of the event side: backoff with jitter, the dead-letter decision, upcasting. */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, decideAfterFailure, type RetryPolicy } from '../../src/platform/events/retry-policy.js';
import { EventTypes, registry } from '../../src/features/catalog/catalog-events.js';
import type { CloudEvent } from '../../src/platform/events/cloud-event.js';
import { upcast, type UpcastLookup } from '../../src/platform/events/upcasters.js';

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
  const placementId = randomUUID();
  const videoId = randomUUID();
  const lookup: UpcastLookup = { placement: async (id) => (id === placementId ? { video_id: videoId, start_time: 3, end_time: 9 } : undefined) };
  const v1 = (changes: Record<string, unknown>): CloudEvent => ({
    specversion: '1.0', id: randomUUID(), source: '/placements', type: EventTypes.placementUpdated, time: new Date().toISOString(),
    subject: placementId, datacontenttype: 'application/json', schemaversion: 1,
    data: { placement_id: placementId, changes, previous_version: 1, new_version: 2 },
  });

  it('produces a valid v2 event, taking the time range from the change when it moved both ends', async () => {
    const event = await upcast(v1({ start_time: 4, end_time: 8 }), lookup);
    expect(event.schemaversion).toBe(2);
    expect(registry.problems(event)).toEqual([]);
    expect(event.data).toMatchObject({ video_id: videoId, time_range: { start_time: 4, end_time: 8 } });
  });

  it('completes a partial change from the placement as it is now', async () => {
    const event = await upcast(v1({ end_time: 12 }), lookup);
    expect(event.data).toMatchObject({ time_range: { start_time: 3, end_time: 12 } });
  });

  it('leaves a current event alone and refuses an unknown placement', async () => {
    const current = { ...v1({}), schemaversion: 2 };
    expect(await upcast(current, lookup)).toBe(current);
    await expect(upcast({ ...v1({}), data: { placement_id: randomUUID(), changes: {}, previous_version: 1, new_version: 2 } }, lookup)).rejects.toThrow(/unknown/);
  });
});
