/** The webhook delivery rules, as given / when / then (pure, no I/O). */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_DELAYS_MS, DISABLE_AFTER_FAILING_MS, MAX_RETRY_AFTER_MS, disableReason, maxAttempts, nextStep, outcomeOf, retryAfterMs, subscribes,
} from '../../../src/features/notifications/webhooks/webhook-rules.js';
import { isUsableSecret, newSecret, sign } from '../../../src/features/notifications/webhooks/webhook-signing.js';
import { Webhook as StandardWebhook } from 'standardwebhooks';

const now = new Date('2026-12-03T12:00:00Z');

describe('webhook rules', () => {
  it('spreads ten attempts over about three days', () => {
    expect(maxAttempts()).toBe(10);
    const total = DEFAULT_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
    expect(total / 3600_000).toBeGreaterThan(60);
    expect(total / 3600_000).toBeLessThan(80);
    expect(nextStep(1, 'failed', undefined)).toEqual({ kind: 'retry', delayMs: 5_000 });
    expect(nextStep(9, 'timeout', undefined)).toEqual({ kind: 'retry', delayMs: 20 * 3600_000 });
    expect(nextStep(10, 'failed', undefined)).toEqual({ kind: 'give-up' });
  });

  it('succeeds on 2xx only, gives up at once on 410', () => {
    expect(outcomeOf({ status: 204 })).toBe('succeeded');
    expect(outcomeOf({ status: 301 })).toBe('failed');
    expect(outcomeOf({ status: 410 })).toBe('gone');
    expect(nextStep(1, 'gone', undefined)).toEqual({ kind: 'give-up' });
    expect(nextStep(3, 'succeeded', undefined)).toEqual({ kind: 'done' });
  });

  it('honours Retry-After when it asks for longer than the schedule, within a day', () => {
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Thu, 03 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Thu, 03 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('9999999', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(nextStep(1, 'failed', 60_000)).toEqual({ kind: 'retry', delayMs: 60_000 });
    expect(nextStep(2, 'failed', 1_000)).toEqual({ kind: 'retry', delayMs: 5 * 60_000 });
  });

  it('disables an endpoint that answered 410 or failed every attempt for five days', () => {
    expect(disableReason('gone', null, now)).toBe('the endpoint answered 410 Gone');
    const fourDays = new Date(now.getTime() - 4 * 24 * 3600_000);
    const fiveDays = new Date(now.getTime() - DISABLE_AFTER_FAILING_MS);
    expect(disableReason('failed', fourDays, now)).toBeUndefined();
    expect(disableReason('timeout', fiveDays, now)).toBe('every attempt failed for 5 days');
    expect(disableReason('succeeded', fiveDays, now)).toBeUndefined();
  });

  it('delivers the types a webhook subscribes to, or all with *', () => {
    expect(subscribes(['campaign.created'], 'campaign.created')).toBe(true);
    expect(subscribes(['campaign.created'], 'placement.created')).toBe(false);
    expect(subscribes(['*'], 'webhook.disabled')).toBe(true);
  });

  it('signs as the Standard Webhooks reference verifies, with secrets it accepts', () => {
    const secret = newSecret();
    expect(isUsableSecret(secret)).toBe(true);
    expect(isUsableSecret('whsec_c2hvcnQ=')).toBe(false);
    const timestamp = Math.floor(Date.now() / 1000);
    const body = '{"hello":"world"}';
    const signature = sign(secret, 'msg_1', timestamp, body);
    expect(signature).toBe(new StandardWebhook(secret).sign('msg_1', new Date(timestamp * 1000), body));
  });
});
