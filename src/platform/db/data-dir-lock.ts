/**
 * One owner per embedded data directory. PGlite is one process's database: a second
 * process opening the same files corrupts them. The first process to open `DATA_DIR`
 * creates `DATA_DIR/nedlia.lock` (exclusive create) naming itself; every other process
 * reads it and refuses before touching a database file. The lock is removed on close
 * and on exit; after a crash or SIGKILL its holder is gone (or its pid belongs to a
 * newer process), so the next start takes it over without a manual clean-up.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';

export const LOCK_FILE = 'nedlia.lock';

/** What the lock file says about the process that holds it. */
export interface LockHolder {
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), telling a reused pid apart. */
  processStart?: number;
  /** What the holder is, in words: `npm start (API, relay and consumers)`, `cli seed-demo`. */
  command: string;
  /** Where the holder serves the API, when it does: the CLI talks to it there. */
  apiUrl?: string;
  /** Whether the holder accepts tokens of the development issuer (keys in DATA_DIR). */
  devIssuer?: boolean;
  since: string;
}

/** Who opens an embedded `DATA_DIR`, as its lock file tells other processes. */
export type DataDirOwner = Pick<LockHolder, 'command' | 'apiUrl' | 'devIssuer'>;

export interface DataDirLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Adds to what the lock file says (the API's address, once listening). */
  update(about: Partial<Pick<LockHolder, 'apiUrl' | 'devIssuer'>>): void;
  release(): void;
}

/** `DATA_DIR` is held by another live process. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `DATA_DIR=${dataDir} is in use by process ${holder.pid} (${holder.command}` +
        `${holder.apiUrl ? `, serving ${holder.apiUrl}` : ''}, since ${holder.since}): ` +
        'the embedded database belongs to one process. Stop that process first, ' +
        'use another DATA_DIR, or set DATABASE_URL to share a PostgreSQL server between processes',
    );
    this.name = 'DataDirInUseError';
  }
}

/** Start time of `pid` in clock ticks since boot, and whether it is a zombie; undefined off Linux. */
function procStat(pid: number): { start: number; zombie: boolean } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { start: Number(fields[19]), zombie: fields[0] === 'Z' };
  } catch {
    return undefined;
  }
}

function isAlive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(holder.pid);
  if (!stat) return true;
  if (stat.zombie) return false;
  return holder.processStart === undefined || holder.processStart === stat.start;
}

/** The holder named by `file`, undefined when there is no file; `null` when it is not readable as one. */
function readHolder(file: string): LockHolder | null | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isInteger(holder.pid) ? holder : null;
  } catch {
    return null;
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Exclusive create of `file` with `text`; false when it exists already. */
function createExclusive(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A lock file being written right now is unreadable for a moment; one older than this is debris. */
const PARTIAL_WRITE_MS = 2_000;

/**
 * Removes the stale lock `seen` under a short-lived guard file, so that two processes
 * finding the same stale lock cannot remove each other's fresh one.
 */
async function takeOverStale(file: string, seen: LockHolder | null): Promise<void> {
  const guard = `${file}.takeover`;
  if (!createExclusive(guard, String(process.pid))) {
    if (ageMs(guard) > PARTIAL_WRITE_MS) removeIfPresent(guard);
    else await sleep(25);
    return;
  }
  try {
    const now = readHolder(file);
    if (now !== undefined && JSON.stringify(now) === JSON.stringify(seen)) removeIfPresent(file);
  } finally {
    removeIfPresent(guard);
  }
}

/** Reads who holds `dataDir`, when a live process does. */
export function dataDirHolder(dataDir: string): LockHolder | undefined {
  const holder = readHolder(path.join(dataDir, LOCK_FILE));
  return holder && isAlive(holder) ? holder : undefined;
}

/**
 * Takes the lock of `dataDir` for this process, or throws `DataDirInUseError` naming
 * the live process that holds it. A stale lock (its holder died) is taken over.
 */
export async function acquireDataDirLock(
  dataDir: string,
  about: DataDirOwner,
): Promise<DataDirLock> {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const start = procStat(process.pid)?.start;
  const holder: LockHolder = {
    pid: process.pid,
    ...(start === undefined ? {} : { processStart: start }),
    ...about,
    since: new Date().toISOString(),
  };
  const text = `${JSON.stringify(holder)}\n`;
  for (let attempt = 0; attempt < 200; attempt++) {
    if (createExclusive(file, text)) return lockOf(file, holder, text);
    const current = readHolder(file);
    if (current === undefined) continue;
    if (current === null) {
      if (ageMs(file) < PARTIAL_WRITE_MS) await sleep(25);
      else await takeOverStale(file, null);
      continue;
    }
    if (isAlive(current)) throw new DataDirInUseError(dataDir, current);
    await takeOverStale(file, current);
  }
  throw new Error(`could not take the lock ${file}: it keeps changing; is another process starting on DATA_DIR=${dataDir}?`);
}

function lockOf(file: string, first: LockHolder, firstText: string): DataDirLock {
  let held = true;
  let holder = first;
  let text = firstText;
  const update = (about: Partial<Pick<LockHolder, 'apiUrl' | 'devIssuer'>>): void => {
    if (!held) return;
    holder = { ...holder, ...about };
    text = `${JSON.stringify(holder)}\n`;
    // Written aside and renamed over, so a reader never sees half a file.
    const next = `${file}.${process.pid}.next`;
    writeFileSync(next, text, { mode: 0o600 });
    renameSync(next, file);
  };
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    try {
      // Only our own lock: never one a later owner wrote after ours was taken over.
      if (readFileSync(file, 'utf8') === text) unlinkSync(file);
    } catch {
      // Already gone.
    }
  };
  process.on('exit', release);
  return {
    file,
    get holder() {
      return holder;
    },
    update,
    release,
  };
}

/**
 * Embedded mode: takes the lock of `DATA_DIR` for this process, before any file in it
 * is touched, or throws `DataDirInUseError` naming the process that holds it. Nothing
 * to lock with a `DATABASE_URL`. Imports nothing heavy, so src/entry/main.ts claims the
 * directory before it loads the service.
 */
export async function claimDataDir(config: Pick<Config, 'databaseUrl' | 'dataDir'>, owner: DataDirOwner): Promise<DataDirLock | undefined> {
  return config.databaseUrl ? undefined : acquireDataDirLock(config.dataDir, owner);
}
