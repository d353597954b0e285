/**
 * Webhook delivery rules (pure): the retry schedule, `Retry-After`, what an answer
 * means, and when an endpoint is disabled. Follows the Standard Webhooks specification
 * (https://www.standardwebhooks.com/): a message keeps its id across attempts; a 2xx is
 * a success; anything else, a timeout or a refused connection is a failure retried on the
 * schedule; 410 Gone disables the endpoint at once.
 */

/**
 * Delay before each attempt after the first (ms): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 10 h, 14 h, 20 h: ten attempts spread over about 2.7 days.
 */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [
  5_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 5 * 3600_000, 10 * 3600_000, 10 * 3600_000, 14 * 3600_000, 20 * 3600_000,
];

/** An endpoint whose every attempt failed for this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * 3600_000;

/** A `Retry-After` is honoured up to this (a longer one is cut to it). */
export const MAX_RETRY_AFTER_MS = 24 * 3600_000;

export type AttemptOutcome = 'succeeded' | 'failed' | 'timeout' | 'refused' | 'gone';

/** What an answered attempt (or its failure) counts as. */
export function outcomeOf(answer: { status: number } | { error: 'timeout' | 'refused' | 'failed' }): AttemptOutcome {
  if ('error' in answer) return answer.error;
  if (answer.status >= 200 && answer.status < 300) return 'succeeded';
  if (answer.status === 410) return 'gone';
  return 'failed';
}

/**
 * `Retry-After` as a delay (ms): delta-seconds or an HTTP date, relative to `now`.
 * Undefined when absent or unreadable; never negative; at most `MAX_RETRY_AFTER_MS`.
 */
export function retryAfterMs(header: string | undefined, now: Date): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  let ms: number | undefined;
  if (/^\d{1,10}$/.test(value)) ms = Number(value) * 1000;
  else {
    const at = Date.parse(value);
    if (!Number.isNaN(at) && /[a-z]/i.test(value)) ms = at - now.getTime();
  }
  if (ms === undefined) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

export type NextStep =
  | { kind: 'done' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'give-up' };

/**
 * After attempt `attempt` (1 = the first) ended with `outcome`: done, retry after a
 * delay (the schedule's, or the receiver's `Retry-After` when it asks for longer), or
 * give up (the schedule is spent, or the endpoint is gone).
 */
export function nextStep(attempt: number, outcome: AttemptOutcome, retryAfter: number | undefined, delays: readonly number[] = DEFAULT_RETRY_DELAYS_MS): NextStep {
  if (outcome === 'succeeded') return { kind: 'done' };
  if (outcome === 'gone') return { kind: 'give-up' };
  const scheduled = delays[attempt - 1];
  if (scheduled === undefined) return { kind: 'give-up' };
  return { kind: 'retry', delayMs: Math.max(scheduled, retryAfter ?? 0) };
}

/** Total attempts the schedule allows (the first one included). */
export const maxAttempts = (delays: readonly number[] = DEFAULT_RETRY_DELAYS_MS): number => delays.length + 1;

/**
 * Whether the endpoint is disabled after this attempt: at once on 410 Gone, or when
 * every attempt failed since `failingSince` and that is `disableAfterMs` ago or more.
 */
export function disableReason(
  outcome: AttemptOutcome,
  failingSince: Date | null,
  now: Date,
  disableAfterMs: number = DISABLE_AFTER_FAILING_MS,
): string | undefined {
  if (outcome === 'gone') return 'the endpoint answered 410 Gone';
  if (outcome === 'succeeded' || failingSince === null) return undefined;
  if (now.getTime() - failingSince.getTime() >= disableAfterMs) {
    const days = Math.round((disableAfterMs / (24 * 3600_000)) * 10) / 10;
    return `every attempt failed for ${days} days`;
  }
  return undefined;
}

/** Whether a webhook subscribed to `eventTypes` receives a notification of `type`. */
export const subscribes = (eventTypes: readonly string[], type: string): boolean => eventTypes.includes(type) || eventTypes.includes('*');
