/**
 * The read caches of an API process and the listener that keeps them right. One
 * today: placements by id, for GET /v1/placements/{id}.
 */
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../../../platform/db/connect.js';
import type { PlacementWithOwners } from './placement-repository.js';
import type { ReadCacheGauge } from '../../../platform/metrics/metrics.js';
import { ReadCache } from '../../../platform/cache/read-cache.js';
import { listenForRowChanges } from '../../../platform/cache/row-change-listener.js';

/** The longest any cached row is served, whatever happens to its invalidations. */
export const READ_CACHE_TTL_MS = 60_000;

export interface ReadCaches {
  placements?: ReadCache<PlacementWithOwners>;
  /** What `/metrics` reports of each cache. */
  gauges(): ReadCacheGauge[];
  close(): Promise<void>;
}

/** `size` rows per cache; 0 gives no caches. */
export async function openReadCaches(database: DatabaseHandle, { size, logger }: { size: number; logger: Logger }): Promise<ReadCaches> {
  if (size === 0) return { gauges: () => [], close: async () => undefined };
  const placements = new ReadCache<PlacementWithOwners>({ maxEntries: size, ttlMs: READ_CACHE_TTL_MS });
  const listener = await listenForRowChanges(database, { caches: { placements }, logger });
  return {
    placements,
    gauges: () => [{ cache: 'placements', ...placements.stats, size: placements.size, live: placements.live }],
    close: () => listener.close(),
  };
}
