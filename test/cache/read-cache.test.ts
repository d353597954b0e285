/** The read cache on its own: when it serves, when it stores, and what it forgets. */
import { describe, expect, it } from 'vitest';
import { ReadCache } from '../../src/platform/cache/read-cache.js';

interface Row {
  id: string;
  version: number;
}

/** A loader that counts its calls and returns `{ id, version }` with the version it is set to. */
function database() {
  const state = { version: 1, loads: 0 };
  const load = (id: string) => async (): Promise<Row | undefined> => {
    state.loads++;
    return { id, version: state.version };
  };
  return { state, load };
}

const liveCache = (maxEntries = 100) => {
  const cache = new ReadCache<Row>({ maxEntries, ttlMs: 60_000 });
  cache.setLive(true);
  return cache;
};

describe('read cache', () => {
  it('serves a stored row without loading, and loads again after an invalidation', async () => {
    const cache = liveCache();
    const db = database();
    expect(await cache.read('a', db.load('a'))).toEqual({ id: 'a', version: 1 });
    db.state.version = 2;
    expect(await cache.read('a', db.load('a'))).toEqual({ id: 'a', version: 1 });
    expect(db.state.loads).toBe(1);
    cache.invalidate('a');
    expect(await cache.read('a', db.load('a'))).toEqual({ id: 'a', version: 2 });
    expect(db.state.loads).toBe(2);
  });

  it('neither serves nor stores while it is not live, and empties itself when it stops being live', async () => {
    const cache = new ReadCache<Row>({ maxEntries: 100, ttlMs: 60_000 });
    const db = database();
    await cache.read('a', db.load('a'));
    await cache.read('a', db.load('a'));
    expect(db.state.loads).toBe(2);
    expect(cache.size).toBe(0);

    cache.setLive(true);
    await cache.read('a', db.load('a'));
    expect(cache.size).toBe(1);
    cache.setLive(false);
    expect(cache.size).toBe(0);
    await cache.read('a', db.load('a'));
    expect(db.state.loads).toBe(4);
  });

  it('does not keep a row loaded while an invalidation happened (it may be older than the change)', async () => {
    const cache = liveCache();
    let finish!: (row: Row) => void;
    const slowLoad = () => new Promise<Row>((resolve) => (finish = resolve));
    const reading = cache.read('a', slowLoad);
    // The change commits and is announced while the read is still waiting for the old row.
    cache.invalidate('a');
    finish({ id: 'a', version: 1 });
    expect(await reading).toEqual({ id: 'a', version: 1 });
    expect(cache.size).toBe(0);

    const db = database();
    db.state.version = 2;
    expect(await cache.read('a', db.load('a'))).toEqual({ id: 'a', version: 2 });
  });

  it('does not keep a read that started before it went live (the row may have changed unannounced)', async () => {
    const cache = new ReadCache<Row>({ maxEntries: 100, ttlMs: 60_000 });
    let finish!: (row: Row) => void;
    const reading = cache.read('a', () => new Promise<Row>((resolve) => (finish = resolve)));
    cache.setLive(true);
    finish({ id: 'a', version: 1 });
    await reading;
    expect(cache.size).toBe(0);
  });

  it('never stores a missing row', async () => {
    const cache = liveCache();
    let loads = 0;
    const missing = async () => {
      loads++;
      return undefined;
    };
    expect(await cache.read('gone', missing)).toBeUndefined();
    expect(await cache.read('gone', missing)).toBeUndefined();
    expect(loads).toBe(2);
  });

  it('keeps at most maxEntries rows, dropping the least recently used', async () => {
    const cache = liveCache(2);
    const db = database();
    await cache.read('a', db.load('a'));
    await cache.read('b', db.load('b'));
    await cache.read('a', db.load('a')); // a is now the most recently used
    await cache.read('c', db.load('c')); // drops b
    expect(cache.size).toBe(2);
    const before = db.state.loads;
    await cache.read('a', db.load('a'));
    expect(db.state.loads).toBe(before);
    await cache.read('b', db.load('b'));
    expect(db.state.loads).toBe(before + 1);
  });

  it('clear() forgets every row', async () => {
    const cache = liveCache();
    const db = database();
    await cache.read('a', db.load('a'));
    await cache.read('b', db.load('b'));
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
