/**
 * Object storage in a directory (`DATA_DIR/objects` by default). A key is a path
 * under the root; a put writes a temporary file in `root/.tmp`, flushes it and
 * renames it over the key's file, so a reader sees the old or the new object,
 * never a part. Keys are checked (`object-validation.ts`) before any path is built.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { boundedCall } from '../bounded-call.js';
import type { ObjectBody, ObjectInfo, ObjectStorage, StoredObject } from '../object-storage.js';
import { assertContentType, assertObjectKey, assertObjectPrefix } from '../object-validation.js';
import { encodeHeader, readHeader } from './object-file.js';

export interface LocalStorageOptions {
  root: string;
  /** Bound on each call (ms). */
  timeoutMs: number;
}

/** Longer than the longest put (STORAGE_TIMEOUT_MS is at most an hour). */
const STALE_TEMP_MS = 2 * 3_600_000;

const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

function isMissing(error: unknown): boolean {
  return MISSING.has((error as NodeJS.ErrnoException).code ?? '');
}

function toStream(body: ObjectBody): Readable {
  if (typeof body === 'string') return Readable.from([Buffer.from(body, 'utf8')]);
  if (body instanceof Uint8Array) return Readable.from([body]);
  return body;
}

export function createLocalStorage(options: LocalStorageOptions): ObjectStorage {
  const root = path.resolve(options.root);
  const tmpDir = path.join(root, '.tmp');
  const fileOf = (key: string) => path.join(root, ...key.split('/'));

  /** Removes the now empty folders between `dir` and the root. */
  async function prune(dir: string): Promise<void> {
    for (let current = dir; current.startsWith(root + path.sep); current = path.dirname(current)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
    }
  }

  /** Temporary files a crashed process left: older than any put may last. */
  let swept = false;
  async function sweep(): Promise<void> {
    swept = true;
    const before = Date.now() - STALE_TEMP_MS;
    for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
      const file = path.join(tmpDir, name);
      const info = await stat(file).catch(() => undefined);
      if (info && info.mtimeMs < before) await rm(file, { force: true });
    }
  }

  async function put(key: string, body: ObjectBody, contentType: string, signal: AbortSignal): Promise<ObjectInfo> {
    const target = fileOf(key);
    await mkdir(tmpDir, { recursive: true });
    if (!swept) await sweep();
    const tmp = path.join(tmpDir, `${randomUUID()}.part`);
    const header = encodeHeader(contentType);
    try {
      await writeFile(tmp, header, { flag: 'wx', mode: 0o600 });
      await pipeline(toStream(body), createWriteStream(tmp, { flags: 'a' }), { signal });
      const file = await open(tmp, 'r+');
      await file.sync().finally(() => file.close());
      const size = (await stat(tmp)).size - header.length;
      // A concurrent delete may prune the folder between mkdir and rename: make it again once.
      for (let attempt = 0; ; attempt++) {
        await mkdir(path.dirname(target), { recursive: true });
        try {
          await rename(tmp, target);
          break;
        } catch (error) {
          if (attempt > 0 || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      const dir = await open(path.dirname(target), 'r');
      await dir.sync().finally(() => dir.close());
      return { contentType, size };
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  async function openObject(key: string): Promise<StoredObject | undefined> {
    const where = fileOf(key);
    let file;
    try {
      file = await open(where, 'r');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      const { contentType, offset } = await readHeader(file, where);
      const size = (await file.stat()).size - offset;
      return { contentType, size, body: file.createReadStream({ start: offset }) };
    } catch (error) {
      await file.close();
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  return {
    async put(key, body, { contentType }) {
      assertObjectKey(key);
      assertContentType(contentType);
      return boundedCall('put', key, options.timeoutMs, (signal) => put(key, body, contentType, signal));
    },
    async get(key) {
      assertObjectKey(key);
      return boundedCall('get', key, options.timeoutMs, () => openObject(key));
    },
    async head(key) {
      assertObjectKey(key);
      return boundedCall('head', key, options.timeoutMs, async () => {
        const found = await openObject(key);
        found?.body.destroy();
        return found && { contentType: found.contentType, size: found.size };
      });
    },
    async delete(key) {
      assertObjectKey(key);
      return boundedCall('delete', key, options.timeoutMs, async () => {
        try {
          await unlink(fileOf(key));
        } catch (error) {
          if (isMissing(error)) return;
          throw error;
        }
        await prune(path.dirname(fileOf(key)));
      });
    },
    async deletePrefix(prefix) {
      assertObjectPrefix(prefix);
      return boundedCall('deletePrefix', prefix, options.timeoutMs, async () => {
        const dir = fileOf(prefix.slice(0, -1));
        let entries;
        try {
          entries = await readdir(dir, { recursive: true, withFileTypes: true });
        } catch (error) {
          if (isMissing(error)) return 0;
          throw error;
        }
        await rm(dir, { recursive: true, force: true });
        await prune(path.dirname(dir));
        return entries.filter((entry) => entry.isFile()).length;
      });
    },
  };
}
