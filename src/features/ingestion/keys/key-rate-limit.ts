/** Requests per minute per ingest key, counted in this process (fixed one-minute windows). */
export class KeyRateLimiter {
  readonly #windows = new Map<string, { count: number; resetAt: number }>();
  constructor(private readonly maxPerMinute: number) {}

  /** 0 when the request may go, else the seconds until the key's window resets. */
  take(keyId: string, now = Date.now()): number {
    if (this.maxPerMinute === 0) return 0;
    let window = this.#windows.get(keyId);
    if (!window || window.resetAt <= now) {
      if (this.#windows.size > 100_000) this.#windows.clear();
      window = { count: 0, resetAt: now + 60_000 };
      this.#windows.set(keyId, window);
    }
    window.count++;
    return window.count > this.maxPerMinute ? Math.ceil((window.resetAt - now) / 1000) : 0;
  }
}
