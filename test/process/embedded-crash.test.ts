import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { engine } from '../support/engine.js';
import { runEmbeddedCrash } from './embedded-crash-harness.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

// The embedded database only: under DB=postgres the same kills are test/events/crash.test.ts's.
describe.runIf(engine === 'pglite')('the embedded service killed with SIGKILL during writes', () => {
  it('restarts every time on its data directory, keeps every acknowledged write, and delivers every committed event', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-embedded-crash-'));
    dirs.push(dataDir);
    const result = await runEmbeddedCrash({ dataDir, kills: 3, writers: 6, killAfterMs: [300, 1500] });
    expect(result.restarts).toBe(3);
    expect(result.acknowledged).toBeGreaterThan(0);
    expect(result).toMatchObject({ lost: 0, unprojected: 0, undelivered: 0, doubled: 0, deadLetters: 0 });
    expect(result.stored).toBeGreaterThanOrEqual(result.acknowledged);
  }, 300_000);
});
