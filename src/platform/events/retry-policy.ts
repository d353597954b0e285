/**
 * What a consumer does after a failed attempt: try again after an exponentially
 * growing delay with jitter, or give up and dead-letter once the maximum is reached.
 * Pure functions; the consumer runtime applies them.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included; the last failure dead-letters the event. */
  maxAttempts: number;
  /** Delay before the second attempt (ms); doubles each time. */
  baseDelayMs: number;
  /** Ceiling of the delay (ms). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 5 * 60_000 };

export type FailureDecision = { kind: 'retry'; delayMs: number } | { kind: 'dead-letter' };

/**
 * Delay before attempt `attempt + 1`: "equal jitter", half fixed and half random,
 * so retries of many events that failed together spread out but never come at once.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

export function decideAfterFailure(attempt: number, policy: RetryPolicy, random: () => number = Math.random): FailureDecision {
  if (attempt >= policy.maxAttempts) return { kind: 'dead-letter' };
  return { kind: 'retry', delayMs: backoffDelay(attempt, policy, random) };
}
