/**
 * `npm run bench:embedded-crash`: the long crash run of the embedded service
 * (EMBEDDED_CRASH_KILLS=20 SIGKILLs by default, EMBEDDED_CRASH_WRITERS=8 concurrent
 * writers, each kill 0.3–3 s into the writes). Same harness as
 * test/process/embedded-crash.test.ts; prints the result and exits 1 if an acknowledged
 * write was lost or a committed event did not reach its consumer exactly once (keeping
 * the data directory to look at).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runEmbeddedCrash } from '../test/process/embedded-crash-harness.js';

const kills = Number(process.env.EMBEDDED_CRASH_KILLS ?? 20);
const writers = Number(process.env.EMBEDDED_CRASH_WRITERS ?? 8);
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-embedded-crash-'));
try {
  const result = await runEmbeddedCrash({ dataDir, kills, writers, killAfterMs: [300, 3000], log: (line) => console.log(line) });
  const sorted = [...result.restartMs].sort((a, b) => a - b);
  console.log(
    JSON.stringify(
      {
        ...result,
        restartMs: { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) },
        errors: result.errors.length,
      },
      null,
      2,
    ),
  );
  for (const line of result.errors.slice(0, 20)) console.log(`logged: ${line.slice(0, 600)}`);
  const ok = result.lost === 0 && result.unprojected === 0 && result.undelivered === 0 && result.doubled === 0 && result.deadLetters === 0;
  console.log(ok ? 'PASS: nothing acknowledged lost, every committed event delivered once' : `FAIL: the data directory is kept for a look: ${dataDir}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  if (process.exitCode === 0) await rm(dataDir, { recursive: true, force: true });
}
