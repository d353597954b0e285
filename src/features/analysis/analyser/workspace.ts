/**
 * Temporary files of analyses: one directory per analysis under the configured temp
 * directory, named after the process that made it, removed when the analysis ends
 * whatever the outcome. A process killed mid-analysis cannot remove its own: the
 * first analysis a process starts sweeps every directory whose process is gone.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

const NAME = /^analysis-(\d+)-/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the directories of processes that are gone; answers how many. */
export async function sweepWorkspaces(root: string): Promise<number> {
  await mkdir(root, { recursive: true });
  let removed = 0;
  for (const entry of await readdir(root)) {
    const match = NAME.exec(entry);
    if (!match || alive(Number(match[1]))) continue;
    await rm(path.join(root, entry), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** Runs `work` with a fresh directory of its own, removed afterwards. */
export async function withWorkspace<T>(root: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = path.join(root, `analysis-${process.pid}-${randomUUID()}`);
  await mkdir(dir, { recursive: true });
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
