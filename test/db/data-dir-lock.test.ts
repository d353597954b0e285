import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirInUseError, dataDirHolder, LOCK_FILE, type LockHolder } from '../../src/platform/db/data-dir-lock.js';

let dir = '';
const lockFile = () => path.join(dir, LOCK_FILE);
const holderOnDisk = async () => JSON.parse(await readFile(lockFile(), 'utf8')) as LockHolder;

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid as number;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the data directory lock', () => {
  it('names its holder, refuses a second owner with that name, and is gone once released', async () => {
    const lock = await acquireDataDirLock(dir, { command: 'npm start', apiUrl: 'http://127.0.0.1:3000' });
    expect(await holderOnDisk()).toMatchObject({ pid: process.pid, command: 'npm start', apiUrl: 'http://127.0.0.1:3000' });
    const refused = await acquireDataDirLock(dir, { command: 'npm run cli -- seed-demo' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DataDirInUseError);
    expect((refused as Error).message).toContain(`in use by process ${process.pid} (npm start, serving http://127.0.0.1:3000`);
    expect(dataDirHolder(dir)?.pid).toBe(process.pid);

    lock.update({ apiUrl: 'http://127.0.0.1:4000' });
    expect((await holderOnDisk()).apiUrl).toBe('http://127.0.0.1:4000');
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
    (await acquireDataDirLock(dir, { command: 'again' })).release();
  });

  it('takes over the lock of a process that died without releasing it', async () => {
    const pid = await deadPid();
    await writeFile(lockFile(), JSON.stringify({ pid, command: 'npm start', since: new Date().toISOString() }));
    const lock = await acquireDataDirLock(dir, { command: 'restart' });
    expect((await holderOnDisk()).pid).toBe(process.pid);
    lock.release();
  });

  it.runIf(existsSync('/proc/self/stat'))('takes over a lock whose pid now belongs to a newer process', async () => {
    await writeFile(lockFile(), JSON.stringify({ pid: process.pid, processStart: 1, command: 'npm start', since: '2026-01-01T00:00:00Z' }));
    expect(dataDirHolder(dir)).toBeUndefined();
    const lock = await acquireDataDirLock(dir, { command: 'restart' });
    expect((await holderOnDisk()).processStart).not.toBe(1);
    lock.release();
  });

  it('treats an unreadable lock file as being written for a moment, then as debris', async () => {
    await writeFile(lockFile(), '{"pid":');
    const old = new Date(Date.now() - 60_000);
    await utimes(lockFile(), old, old);
    const lock = await acquireDataDirLock(dir, { command: 'after debris' });
    expect((await holderOnDisk()).command).toBe('after debris');
    lock.release();
  });

  it('never releases a lock another process owns now', async () => {
    const lock = await acquireDataDirLock(dir, { command: 'first' });
    const other = { pid: await deadPid(), command: 'someone else', since: new Date().toISOString() };
    await writeFile(lockFile(), JSON.stringify(other));
    lock.release();
    expect((await holderOnDisk()).command).toBe('someone else');
  });

  it('lets exactly one of several processes starting at once take a stale lock', async () => {
    await writeFile(lockFile(), JSON.stringify({ pid: await deadPid(), command: 'crashed', since: new Date().toISOString() }));
    const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['--import', 'tsx', 'test/support/lock-child.ts', dir]));
    // Every answer is in while the winner still holds the lock (it holds it until its stdin closes).
    const outputs = await Promise.all(
      children.map(async (child) => {
        let text = '';
        for await (const chunk of child.stdout) {
          text += String(chunk);
          if (text.includes('\n')) break;
        }
        return text.trim();
      }),
    );
    for (const child of children) child.stdin.end();
    await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)));
    expect(outputs.filter((o) => o === 'won')).toHaveLength(1);
    expect(outputs.filter((o) => o.startsWith('refused '))).toHaveLength(3);
    expect(existsSync(lockFile())).toBe(false);
  });
});
