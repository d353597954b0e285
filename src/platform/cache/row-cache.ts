/**
 * The read cache a use case may be given: rows by id, read through to the
 * database on a miss. The platform keeps it right (it drops a row when any
 * process changes it); a use case that changes a row also drops it once its
 * transaction has committed, so the caller's next read sees the change.
 */
export interface RowCache<V> {
  /** The cached row, or `load()`'s (kept for the next read unless the row changed meanwhile). */
  read(id: string, load: () => Promise<V | undefined>): Promise<V | undefined>;
  /** Forgets the row (after a committed change). */
  invalidate(id: string): void;
  /** Forgets every row (after a committed change that hides many, e.g. deleting their video). */
  clear(): void;
}
