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
