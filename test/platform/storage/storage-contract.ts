/**
 * What every object storage adapter must do. An adapter's test file calls
 * `storageContract` with a factory that gives a fresh, empty store.
 */
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectStorage } from '../../../src/platform/storage/object-storage.js';
import { InvalidObjectKeyError, StorageTimeoutError } from '../../../src/platform/storage/storage-errors.js';

export interface StoreUnderTest {
  storage: ObjectStorage;
  close(): Promise<void>;
}

async function read(storage: ObjectStorage, key: string): Promise<{ contentType: string; size: number; text: string } | undefined> {
  const found = await storage.get(key);
  return found && { contentType: found.contentType, size: found.size, text: await text(found.body) };
}

/** A body that sends `first`, then waits for `release()` before sending `rest` (or failing). */
function heldStream(first: string) {
  let release: (rest: string | Error) => void = () => undefined;
  const gate = new Promise<string | Error>((resolve) => (release = resolve));
  async function* chunks() {
    yield Buffer.from(first);
    const rest = await gate;
    if (rest instanceof Error) throw rest;
    yield Buffer.from(rest);
  }
  return { body: Readable.from(chunks()), release };
}

export function storageContract(name: string, open: (timeoutMs: number) => Promise<StoreUnderTest>): void {
  describe(`${name} object storage (contract)`, () => {
    let store: StoreUnderTest;
    let storage: ObjectStorage;
    beforeEach(async () => {
      store = await open(30_000);
      storage = store.storage;
    });
    afterEach(async () => {
      await store.close();
    });

    it('gives back the bytes and content type of a buffer it stored', async () => {
      const info = await storage.put('videos/v1/frame.txt', Buffer.from('héllo'), { contentType: 'text/plain; charset=utf-8' });
      expect(info).toEqual({ contentType: 'text/plain; charset=utf-8', size: 6 });
      expect(await read(storage, 'videos/v1/frame.txt')).toEqual({ contentType: 'text/plain; charset=utf-8', size: 6, text: 'héllo' });
      expect(await storage.head('videos/v1/frame.txt')).toEqual({ contentType: 'text/plain; charset=utf-8', size: 6 });
    });

    it('stores a stream of unknown length, larger than one upload part', async () => {
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      const chunks = 6;
      async function* body() {
        for (let i = 0; i < chunks; i++) yield chunk;
      }
      const info = await storage.put('big/file.bin', Readable.from(body()), { contentType: 'application/octet-stream' });
      expect(info.size).toBe(chunks * chunk.length);
      const found = await storage.get('big/file.bin');
      let size = 0;
      for await (const part of found!.body) size += (part as Buffer).length;
      expect(size).toBe(chunks * chunk.length);
    });

    it('replaces an object as a whole, and readers see the old one until the put completes', async () => {
      await storage.put('doc.json', '{"v":1}', { contentType: 'application/json' });
      const held = heldStream('{"v":');
      const putting = storage.put('doc.json', held.body, { contentType: 'text/plain' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await read(storage, 'doc.json')).toEqual({ contentType: 'application/json', size: 7, text: '{"v":1}' });
      held.release('2}');
      await putting;
      expect(await read(storage, 'doc.json')).toEqual({ contentType: 'text/plain', size: 7, text: '{"v":2}' });
    });

    it('ends concurrent puts of one key with one of them whole', async () => {
      const bodies = Array.from({ length: 8 }, (_, i) => String(i).repeat(50_000 + i));
      await Promise.all(bodies.map((body, i) => storage.put('contended.txt', body, { contentType: `text/x-${i}` })));
      const found = await read(storage, 'contended.txt');
      const winner = bodies.indexOf(found?.text ?? '');
      expect(winner).toBeGreaterThanOrEqual(0);
      expect(found).toMatchObject({ contentType: `text/x-${winner}`, size: bodies[winner]!.length });
    });

    it('keeps the previous object when the body fails midway', async () => {
      await storage.put('kept.txt', 'old', { contentType: 'text/plain' });
      const held = heldStream('partial');
      const putting = storage.put('kept.txt', held.body, { contentType: 'text/plain' });
      held.release(new Error('source broke'));
      await expect(putting).rejects.toThrow();
      expect(await read(storage, 'kept.txt')).toMatchObject({ text: 'old' });
      await expect(storage.put('fresh.txt', heldFailing(), { contentType: 'text/plain' })).rejects.toThrow();
      expect(await storage.head('fresh.txt')).toBeUndefined();
    });

    it('answers undefined for a missing object, and deleting it is not an error', async () => {
      expect(await storage.get('nothing/here')).toBeUndefined();
      expect(await storage.head('nothing/here')).toBeUndefined();
      await storage.delete('nothing/here');
      await storage.put('gone.txt', 'x', { contentType: 'text/plain' });
      await storage.delete('gone.txt');
      expect(await storage.head('gone.txt')).toBeUndefined();
    });

    it('deletes by prefix only what is under the prefix', async () => {
      for (const key of ['v/1/a', 'v/1/b', 'v/1/sub/c', 'v/10/a', 'v/2/a']) await storage.put(key, key, { contentType: 'text/plain' });
      expect(await storage.deletePrefix('v/1/')).toBe(3);
      for (const key of ['v/1/a', 'v/1/b', 'v/1/sub/c']) expect(await storage.head(key), key).toBeUndefined();
      for (const key of ['v/10/a', 'v/2/a']) expect(await storage.head(key), key).toBeDefined();
      expect(await storage.deletePrefix('none/')).toBe(0);
    });

    it('refuses keys that could leave their place', async () => {
      for (const key of ['', '../x', 'a/../../b', '/etc/passwd', 'a//b', 'a/', './a', '.hidden', 'a/.tmp/b', 'a\\..\\b', 'a\u0000b', 'é']) {
        await expect(storage.put(key, 'x', { contentType: 'text/plain' }), JSON.stringify(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
        await expect(storage.get(key), JSON.stringify(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      }
      for (const prefix of ['', 'v', '../', '/v/', 'v//']) {
        await expect(storage.deletePrefix(prefix), JSON.stringify(prefix)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      }
    });

    it('bounds a call by its timeout and stores nothing', async () => {
      const quick = await open(300);
      try {
        const never = new Readable({ read() {} });
        never.push('started');
        const started = Date.now();
        const error = await quick.storage.put('slow.txt', never, { contentType: 'text/plain' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageTimeoutError);
        expect(error).toMatchObject({ operation: 'put', key: 'slow.txt', timeoutMs: 300 });
        expect(Date.now() - started).toBeLessThan(20_000);
        expect(await storage.head('slow.txt')).toBeUndefined();
      } finally {
        await quick.close();
      }
    });
  });
}

function heldFailing(): Readable {
  return Readable.from(
    (async function* () {
      yield Buffer.from('some');
      throw new Error('source broke');
    })(),
  );
}
