/**
 * Runs a subscriber's deliveries, shared by the broker adapters:
 * - at most `concurrency` at once (pull adapters ask the broker only for `free` slots,
 *   so a subscriber never holds messages it cannot start, whose lease would run out);
 * - deliveries with the same key (the event's subject, i.e. its aggregate) run one after
 *   the other in arrival order, so per-aggregate order survives concurrency > 1;
 * - `drain` waits for deliveries in hand, but never longer than the lease: past it the
 *   broker has handed them to someone else, and waiting longer only delays shutdown.
 */
export class DeliveryDispatcher {
  private inFlight = 0;
  private readonly tails = new Map<string, Promise<void>>();
  private readonly running = new Set<Promise<void>>();
  private slotWaiters: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly onError: (error: unknown) => void,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
  }

  /** Slots not taken by a running or queued delivery. */
  get free(): number {
    return Math.max(0, this.concurrency - this.inFlight);
  }

  /** Resolves when at least one slot is free, or after `maxWaitMs`. */
  waitForSlot(maxWaitMs: number): Promise<void> {
    if (this.free > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, maxWaitMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.slotWaiters.push(done);
    });
  }

  /** Starts `task` once earlier tasks with the same key are done. Never rejects. */
  run(key: string, task: () => Promise<void>): void {
    this.inFlight += 1;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(task).catch(this.onError);
    this.tails.set(key, current);
    const tracked = current.finally(() => {
      this.inFlight -= 1;
      this.running.delete(tracked);
      if (this.tails.get(key) === current) this.tails.delete(key);
      const waiters = this.slotWaiters;
      this.slotWaiters = [];
      for (const wake of waiters) wake();
    });
    this.running.add(tracked);
  }

  /** Waits for the deliveries in hand, at most `maxWaitMs`. */
  async drain(maxWaitMs: number): Promise<void> {
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
    });
    await Promise.race([Promise.allSettled([...this.running]), timeout]);
    clearTimeout(timer);
  }
}

/**
 * Whether a delivery received at `receivedAt` (ms) is past its lease, by this process's
 * clock. The broker started the lease a little earlier (network), hence the margin. A
 * delivery past its lease has been, or is about to be, handed out again: the adapters
 * that cannot fence on the broker (NATS acks by stream sequence, SQS receipt handles)
 * neither start its handler nor send its late outcome, so a stale worker cannot settle
 * the new attempt; at worst the event is delivered once more.
 */
export function leaseExpired(receivedAt: number, leaseMs: number): boolean {
  return Date.now() - receivedAt >= leaseMs - Math.min(500, leaseMs / 10);
}

/** Default error sink of the adapters: a handler must not throw, so say it loudly. */
export function reportToStderr(error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`event bus: ${text}\n`);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(finish, ms);
    signal?.addEventListener('abort', finish, { once: true });
    function finish(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    }
  });
}

/** The longest a broker call (publish, ack, ping, topology) may wait before it counts as failed. */
export const BROKER_CALL_TIMEOUT_MS = 5_000;

/** A broker call that did not answer within its bound. */
export class BrokerTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = 'BrokerTimeoutError';
  }
}

/**
 * Rejects with a `BrokerTimeoutError` when `work` has not settled within `ms`. The work
 * itself goes on; the caller decides what to do with the connection it ran on.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BrokerTimeoutError(what, ms)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** How long a broker link was failing and how many attempts failed meanwhile (`OutageLog`). */
export type RestoreReport = (info: { consumer?: string; downtime_ms: number; failed_attempts: number }) => void;

/** Default restore sink of the adapters. */
export function reportRestoreToStderr(info: Parameters<RestoreReport>[0]): void {
  process.stderr.write(`event bus: works again after ${info.downtime_ms} ms (${info.failed_attempts} failed attempts)${info.consumer ? ` for ${info.consumer}` : ''}\n`);
}
