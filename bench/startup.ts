/**
 * `npm run bench:startup`: time from launching the service (as `npm start` does)
 * to `/health/ready` answering 200, on a fresh and on an existing data directory,
 * and the resident memory once idle.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, spawnService } from '../test/support/processes.js';

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function once(label: string, dataDir: string): Promise<Record<string, string | number>> {
  const port = await freePort();
  const started = performance.now();
  const service = spawnService('src/entry/main.ts', { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
  let readyMs = -1;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200) {
        readyMs = performance.now() - started;
        break;
      }
    } catch {
      // not yet
    }
    await sleep(20);
  }
  await sleep(3000);
  const rss = await rssMb(service.child.pid as number);
  service.child.kill('SIGTERM');
  await service.exit;
  return { data_dir: label, 'ready after (ms)': Math.round(readyMs), 'idle RSS (MB)': rss };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-startup-'));
try {
  console.table([await once('fresh', dir), await once('existing', dir), await once('existing', dir)]);
} finally {
  await rm(dir, { recursive: true, force: true });
}
