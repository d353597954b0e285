/**
 * Group commit: concurrent requests share transactions. A request's accepted events
 * join the queue; whenever fewer than `maxConcurrent` commits are running, one starts
 * with everything queued (up to `maxEvents`). Under light load a request commits alone
 * at once; under heavy load each commit (one WAL flush) carries many requests. Every
 * request is answered only after the commit that holds its events.
 */
import type { AcceptedEvent } from './event-model.js';

interface Waiting {
  events: readonly AcceptedEvent[];
  resolve(fresh: Set<string>): void;
  reject(error: unknown): void;
}

export interface GroupCommitOptions {
  maxConcurrent: number;
  maxEvents: number;
}

/** Stores events with distinct ids; returns the ids that were new. */
export type StoreGroup = (events: readonly AcceptedEvent[]) => Promise<Set<string>>;

export class GroupCommit {
  readonly #queue: Waiting[] = [];
  #running = 0;
  #idle: (() => void)[] = [];
  /** Commits made and requests they carried, for the bench and /v1/admin/ingestion. */
  readonly stats = { commits: 0, requests: 0, events: 0 };

  constructor(
    private readonly store: StoreGroup,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Resolves with the ids of `events` that were new and are now committed, once they are. */
  submit(events: readonly AcceptedEvent[]): Promise<Set<string>> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      this.#pump();
    });
  }

  /** Resolves when no commit is running or queued. */
  drained(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.options.maxConcurrent && this.#queue.length > 0) {
      const group: Waiting[] = [];
      let size = 0;
      while (this.#queue.length > 0 && (group.length === 0 || size + (this.#queue[0] as Waiting).events.length <= this.options.maxEvents)) {
        const next = this.#queue.shift() as Waiting;
        group.push(next);
        size += next.events.length;
      }
      this.#running++;
      void this.#commit(group).finally(() => {
        this.#running--;
        this.#pump();
        if (this.#running === 0 && this.#queue.length === 0) for (const done of this.#idle.splice(0)) done();
      });
    }
  }

  /** A deadlock or serialization failure (which id order should prevent) is retried, at most 3 times. */
  async #storeWithRetry(events: readonly AcceptedEvent[]): Promise<Set<string>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.store(events);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw error;
      }
    }
  }

  async #commit(group: Waiting[]): Promise<void> {
    // One id once per commit: the first request that sent it owns it; the others see a duplicate.
    const owner = new Map<string, Waiting>();
    const events: AcceptedEvent[] = [];
    for (const waiting of group) {
      for (const e of waiting.events) {
        if (owner.has(e.id)) continue;
        owner.set(e.id, waiting);
        events.push(e);
      }
    }
    try {
      const fresh = await this.#storeWithRetry(events);
      this.stats.commits++;
      this.stats.requests += group.length;
      this.stats.events += fresh.size;
      for (const waiting of group) {
        const mine = new Set<string>();
        for (const e of waiting.events) if (fresh.has(e.id) && owner.get(e.id) === waiting) mine.add(e.id);
        waiting.resolve(mine);
      }
    } catch (error) {
      for (const waiting of group) waiting.reject(error);
    }
  }
}
