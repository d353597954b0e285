import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config/config.js';
import { createObjectStorage } from '../../../src/platform/storage/create-storage.js';
import { createLocalStorage } from '../../../src/platform/storage/local/local-storage.js';
import { storageContract } from './storage-contract.js';

const roots: string[] = [];
async function freshRoot(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'nedlia-objects-'));
  roots.push(root);
  return root;
}
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

// Both the main store and the short-timeout one of a test share the root of the latest `open`.
let current = '';
storageContract('local', async (timeoutMs) => {
  if (timeoutMs >= 1000) current = await freshRoot();
  return { storage: createLocalStorage({ root: current, timeoutMs }), close: async () => undefined };
});

describe('local object storage', () => {
  it('keeps objects as files under the root and leaves no temporary file behind', async () => {
    const root = await freshRoot();
    const storage = createLocalStorage({ root, timeoutMs: 30_000 });
    await storage.put('a/b.txt', 'x', { contentType: 'text/plain' });
    await expect(storage.put('a/c.txt', Buffer.from('y'), { contentType: 'not a type' })).rejects.toThrow(/content type/);
    expect((await readdir(path.join(root, 'a'))).sort()).toEqual(['b.txt']);
    expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
    await storage.delete('a/b.txt');
    expect(await readdir(root)).toEqual(['.tmp']);
  });

  it('removes the temporary files a crashed process left, and only those', async () => {
    const root = await freshRoot();
    await mkdir(path.join(root, '.tmp'), { recursive: true });
    const stale = path.join(root, '.tmp', 'crashed.part');
    const recent = path.join(root, '.tmp', 'running.part');
    await writeFile(stale, 'left over');
    await writeFile(recent, 'in progress');
    const threeHoursAgo = new Date(Date.now() - 3 * 3_600_000);
    await utimes(stale, threeHoursAgo, threeHoursAgo);
    await createLocalStorage({ root, timeoutMs: 30_000 }).put('k', 'v', { contentType: 'text/plain' });
    expect(await readdir(path.join(root, '.tmp'))).toEqual(['running.part']);
  });

  it('is what STORAGE=local selects, under DATA_DIR/objects', async () => {
    const dataDir = await freshRoot();
    const storage = createObjectStorage(loadConfig({ DATA_DIR: dataDir }));
    await storage.put('k', 'v', { contentType: 'text/plain' });
    expect(await readdir(path.join(dataDir, 'objects'))).toContain('k');
  });
});
