/**
 * A bounded in-process read cache of rows by id (least recently used rows go
 * first), kept right by invalidation: a row is dropped when a change to it is
 * announced (row-change-listener.ts) or made by this process. It only serves and
 * stores rows while it is *live*, that is while those announcements are known to
 * arrive; when the listening connection drops it empties itself and every read
 * goes to the database until the connection is back.
 *
 * A read that loads from the database is stored only if nothing was invalidated
 * while it ran (a generation counter): otherwise it might have read the row just
 * before a change whose announcement has already come and gone, and would keep
 * the old row. Rows also expire after `ttlMs`, a bound on the age of any row.
 */
import { LRUCache } from 'lru-cache';
import type { RowCache } from './row-cache.js';

export interface ReadCacheOptions {
  maxEntries: number;
  ttlMs: number;
}

export class ReadCache<V extends object> implements RowCache<V> {
  readonly #rows: LRUCache<string, V>;
  #generation = 0;
  #live = false;
  /** Reads served from the cache and reads that went to the database (plain counters: read at scrape time). */
  readonly stats = { hits: 0, misses: 0 };

  constructor({ maxEntries, ttlMs }: ReadCacheOptions) {
    this.#rows = new LRUCache<string, V>({ max: maxEntries, ttl: ttlMs, ttlAutopurge: false });
  }

  async read(id: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    if (this.#live) {
      const hit = this.#rows.get(id);
      if (hit !== undefined) {
        this.stats.hits++;
        return hit;
      }
    }
    this.stats.misses++;
    const generation = this.#generation;
    const row = await load();
    if (row !== undefined && this.#live && generation === this.#generation) this.#rows.set(id, row);
    return row;
  }

  /** The cached row if there is one, without loading (a synchronous read for the HTTP fast path); counted as a hit. */
  peek(id: string): V | undefined {
    if (!this.#live) return undefined;
    const hit = this.#rows.get(id);
    if (hit !== undefined) this.stats.hits++;
    return hit;
  }

  /** The cached row if there is one, without loading, counting or refreshing its recency (a check before a read). */
  find(id: string): V | undefined {
    return this.#live ? this.#rows.peek(id) : undefined;
  }

  invalidate(id: string): void {
    this.#generation++;
    this.#rows.delete(id);
  }

  clear(): void {
    this.#generation++;
    this.#rows.clear();
  }

  /**
   * On: changes are being announced. Off: they may not be, so nothing is served or
   * kept. Either way, reads already loading are not kept: one that started before the
   * announcements resumed may hold a row whose change was never announced.
   */
  setLive(live: boolean): void {
    this.clear();
    this.#live = live;
  }

  get live(): boolean {
    return this.#live;
  }

  get size(): number {
    return this.#rows.size;
  }
}
