/**
 * Polling with idle backoff, shared by the outbox relay and the postgres bus: poll
 * again at once while there is work, back off (doubling up to a ceiling) while there
 * is none, and wake early when something in this process says there is new work.
 */
export interface IdlePollingOptions {
  /** First wait after an empty poll (ms). */
  minMs: number;
  /** Longest wait between polls when idle (ms). */
  maxMs: number;
}

export class IdlePoller {
  #waitMs: number;
  #wake: (() => void) | undefined;
  #woken = false;

  constructor(private readonly options: IdlePollingOptions) {
    this.#waitMs = options.minMs;
  }

  /** There was work: the next idle wait starts from the minimum again. */
  busy(): void {
    this.#waitMs = this.options.minMs;
  }

  /** Ends the current (or the next) idle wait at once. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Waits after an empty poll; resolves early on `wake()`. */
  async idle(): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      this.#waitMs = this.options.minMs;
      return;
    }
    const wait = this.#waitMs;
    this.#waitMs = Math.min(this.options.maxMs, this.#waitMs * 2);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, wait);
      this.#wake = () => {
        this.#waitMs = this.options.minMs;
        done();
      };
    });
    this.#woken = false;
  }
}

/**
 * Reports a dependency's outage once: the first failure is logged, the ones after it
 * while it lasts only counted, and the first success after it logged with how long it
 * lasted and how many attempts failed. Loops that retry every few milliseconds during
 * an outage use it so that their logs do not flood.
 */
export class OutageLog {
  #since: number | undefined;
  #failures = 0;

  constructor(
    private readonly report: {
      down(error: unknown): void;
      up(outage: { downtime_ms: number; failed_attempts: number }): void;
    },
  ) {}

  get down(): boolean {
    return this.#since !== undefined;
  }

  failed(error: unknown): void {
    this.#failures++;
    if (this.#since !== undefined) return;
    this.#since = performance.now();
    this.report.down(error);
  }

  succeeded(): void {
    if (this.#since === undefined) return;
    const outage = { downtime_ms: Math.round(performance.now() - this.#since), failed_attempts: this.#failures };
    this.#since = undefined;
    this.#failures = 0;
    this.report.up(outage);
  }
}
