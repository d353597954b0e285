/**
 * Keeps this process's read caches in step with the database. Migration 0004 makes
 * every update or delete of a cached table announce `<table>:<id>` on the
 * `nedlia_row_changes` channel when its transaction commits, whichever process (or
 * person) wrote it; this listens on that channel and drops the named rows.
 *
 * The caches are live only while the listening connection is up. When it drops,
 * they are emptied and bypassed (announcements made meanwhile are lost), and the
 * listener reconnects with backoff; once `LISTEN` is in place again they go live.
 */
import type { Logger } from 'pino';
import type { DatabaseHandle, Listener } from '../db/connect.js';
import type { ReadCache } from './read-cache.js';

type Invalidated = Pick<ReadCache<object>, 'invalidate' | 'clear' | 'setLive'>;

export const ROW_CHANGES_CHANNEL = 'nedlia_row_changes';

export interface RowChangeListenerOptions {
  /** The cache of each table, by table name. */
  caches: Record<string, Invalidated>;
  logger: Logger;
  /** Reconnect backoff: doubles from `minMs` up to `maxMs`. */
  retry?: { minMs: number; maxMs: number };
}

export interface RowChangeListener {
  close(): Promise<void>;
}

export async function listenForRowChanges(database: DatabaseHandle, options: RowChangeListenerOptions): Promise<RowChangeListener> {
  const { caches, logger, retry = { minMs: 500, maxMs: 5_000 } } = options;
  const setLive = (live: boolean) => Object.values(caches).forEach((cache) => cache.setLive(live));
  let closed = false;
  let listener: Listener | undefined;
  let timer: NodeJS.Timeout | undefined;
  let down = false;
  // Which caches a line speaks of: a process may have several listeners (one per feature).
  const named = Object.keys(caches).join(',');

  const onChange = (payload: string) => {
    const colon = payload.indexOf(':');
    const cache = caches[payload.slice(0, colon)];
    const id = payload.slice(colon + 1);
    if (!cache) return;
    if (id === '*') cache.clear();
    else cache.invalidate(id);
  };

  const onLost = (error: Error) => {
    setLive(false);
    listener = undefined;
    down = true;
    logger.warn({ err: error, caches: named }, 'row change notifications lost: read caches off until they are back');
    schedule(1);
  };

  const schedule = (attempt: number) => {
    if (closed) return;
    timer = setTimeout(() => void connect(attempt), Math.min(retry.maxMs, retry.minMs * 2 ** (attempt - 1)));
    timer.unref();
  };

  const connect = async (attempt: number): Promise<void> => {
    if (closed) return;
    try {
      const opened = await database.listen(ROW_CHANGES_CHANNEL, onChange, onLost);
      if (closed) return void (await opened.close());
      listener = opened;
      setLive(true);
      if (down) logger.info({ caches: named }, 'row change notifications restored: read caches on');
      down = false;
    } catch (error) {
      // Said once per outage (the loss was logged already); the retries are quiet.
      if (down) logger.debug({ err: error, attempt, caches: named }, 'still cannot listen for row changes');
      else logger.warn({ err: error, attempt, caches: named }, 'cannot listen for row changes: read caches stay off, retrying');
      down = true;
      schedule(attempt + 1);
    }
  };

  await connect(1);
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      setLive(false);
      await listener?.close();
    },
  };
}
