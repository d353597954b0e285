/**
 * Starts the real service (`src/entry/main.ts`) as a child process, the way `npm start`
 * does, and waits until it answers. Used by process-level tests.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll } from 'vitest';
import { engine, openTestDatabase, type TestDatabase } from './engine.js';
import { freePort, spawnService } from './processes.js';

export { freePort, spawnService } from './processes.js';

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  exit: Promise<number | null>;
}

export async function startService(env: Record<string, string>, timeoutMs = 60_000): Promise<ServiceProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = spawnService('src/entry/main.ts', { HOST: '127.0.0.1', PORT: String(port), ...env });
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void service.exit.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.status === 200) return { ...service, url };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  service.child.kill('SIGKILL');
  throw new Error(`the service did not become ready:\n${service.output()}`);
}

/**
 * The environment a service process (or CLI) of this test file runs with: its own
 * DATA_DIR and, under DB=postgres, its own database. Made before and removed after
 * the file's tests; read `env()` inside a test.
 */
export function useServiceEnvironment(): { env(): Record<string, string> } {
  let dataDir = '';
  let database: TestDatabase | undefined;
  let env: Record<string, string> = {};
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-service-'));
    env = { DATA_DIR: dataDir };
    if (engine === 'postgres') {
      database = await openTestDatabase();
      env.DATABASE_URL = database.url as string;
    }
  });
  afterAll(async () => {
    await database?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return { env: () => env };
}
