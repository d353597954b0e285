import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '../../../src/platform/child-process/run-tool.js';
import type { ToolRequest } from '../../../src/platform/child-process/run-tool.js';
import { ToolLimitError, ToolStartError } from '../../../src/platform/child-process/tool-errors.js';

const limits = { timeoutMs: 30_000, maxOutputBytes: 1024 * 1024 };
const node = process.execPath;

async function limitError(request: ToolRequest): Promise<ToolLimitError> {
  const error = await runTool(request).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolLimitError);
  return error as ToolLimitError;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, boundMs: number): Promise<boolean> {
  for (const until = Date.now() + boundMs; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
    if (condition()) return true;
  }
  return condition();
}

let dir = '';
beforeAll(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'nedlia-tool-')));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('running external tools', () => {
  it('passes arguments as they are, with no shell in between', async () => {
    const run = await runTool({ ...limits, command: 'printf', args: ['%s|', 'a b', '$HOME', '; echo injected', '`id`'] });
    expect(run.stdout.toString()).toBe('a b|$HOME|; echo injected|`id`|');
    expect([run.exitCode, run.signal]).toEqual([0, null]);
    expect(run.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('answers a failing exit as a result, not an error', async () => {
    const run = await runTool({ ...limits, command: 'false' });
    expect([run.exitCode, run.signal]).toEqual([1, null]);
  });

  it('runs in the given directory with only the given environment, and keeps secrets out by default', async () => {
    const script = "process.stdout.write([process.cwd(), process.env.ONLY ?? '-', process.env.NEDLIA_TEST_SECRET ?? 'none'].join(' '))";
    const given = await runTool({ ...limits, command: node, args: ['-e', script], cwd: dir, env: { ONLY: 'yes' } });
    expect(given.stdout.toString()).toBe(`${dir} yes none`);
    process.env.NEDLIA_TEST_SECRET = 'hunter2';
    try {
      const inherited = await runTool({ ...limits, command: node, args: ['-e', script] });
      expect(inherited.stdout.toString()).toBe(`${process.cwd()} - none`);
    } finally {
      delete process.env.NEDLIA_TEST_SECRET;
    }
  });

  it('feeds the input to stdin', async () => {
    const run = await runTool({ ...limits, command: 'cat', input: 'to stdin' });
    expect(run.stdout.toString()).toBe('to stdin');
  });

  it('stops a run past its time limit with SIGTERM', async () => {
    const started = Date.now();
    const error = await limitError({ ...limits, command: 'sleep', args: ['60'], timeoutMs: 300 });
    expect(error.limit).toBe('time');
    expect(error.run.signal).toBe('SIGTERM');
    expect(error.message).toContain('time limit');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('kills a run that ignores SIGTERM after the grace period', async () => {
    const script = "process.on('SIGTERM', () => {}); process.stdout.write('ready'); setInterval(() => {}, 1000)";
    const error = await limitError({ ...limits, command: node, args: ['-e', script], timeoutMs: 5_000, killGraceMs: 300 });
    expect(error.limit).toBe('time');
    expect(error.run.stdout.toString()).toBe('ready');
    expect(error.run.signal).toBe('SIGKILL');
  });

  it('stops the whole process group, not only the process it started', async () => {
    const error = await limitError({ ...limits, command: 'sh', args: ['-c', 'sleep 60 & echo $!; wait'], timeoutMs: 1_000 });
    const grandchild = Number(error.run.stdout.toString().trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(await waitUntil(() => !alive(grandchild), 15_000)).toBe(true);
  });

  it('stops a run as soon as it writes more than its output limit, keeping the output up to it', async () => {
    const started = Date.now();
    const error = await limitError({ ...limits, command: 'yes', maxOutputBytes: 64 * 1024 });
    expect(error.limit).toBe('output');
    expect(error.run.stdout.length).toBe(64 * 1024);
    expect(error.run.stdout.subarray(0, 4).toString()).toBe('y\ny\n');
    expect(Date.now() - started).toBeLessThan(20_000);
    const onStderr = await limitError({ ...limits, command: node, args: ['-e', "for (;;) process.stderr.write('e'.repeat(4096))"], maxOutputBytes: 10_000 });
    expect(onStderr.limit).toBe('output');
    expect(onStderr.message).toContain('stderr');
  });

  const allocate = (mib: number) => `const kept = []; for (let i = 0; i < ${mib / 64}; i++) kept.push(Buffer.alloc(64 * 1024 * 1024, 1)); process.stdout.write('allocated')`;
  const memoryLimitBytes = 1536 * 1024 * 1024;

  it('caps the memory of a run and says when it ran out', async () => {
    const error = await limitError({ ...limits, command: node, args: ['-e', allocate(4096)], memoryLimitBytes });
    expect(error.limit).toBe('memory');
    expect(error.run.memoryLimitVia).toBe('prlimit');
    expect(error.run.stdout.toString()).toBe('');
    const within = await runTool({ ...limits, command: node, args: ['-e', allocate(128)], memoryLimitBytes });
    expect([within.exitCode, within.stdout.toString()]).toEqual([0, 'allocated']);
    // Without the cap the same allocation goes through.
    const uncapped = await runTool({ ...limits, command: node, args: ['-e', allocate(2048)] });
    expect(uncapped.stdout.toString()).toBe('allocated');
  });

  it('caps the memory with ulimit -v where prlimit is not wanted, passing arguments untouched', async () => {
    const error = await limitError({ ...limits, command: node, args: ['-e', allocate(4096)], memoryLimitBytes, memoryLimitVia: 'ulimit' });
    expect(error.limit).toBe('memory');
    expect(error.run.memoryLimitVia).toBe('ulimit');
    const within = await runTool({ ...limits, command: 'printf', args: ['%s|', '$0', 'a b', '; echo x'], memoryLimitBytes, memoryLimitVia: 'ulimit' });
    expect(within.stdout.toString()).toBe('$0|a b|; echo x|');
  });

  it('says when a command cannot start', async () => {
    await expect(runTool({ ...limits, command: 'nedlia-no-such-tool' })).rejects.toBeInstanceOf(ToolStartError);
    for (const memoryLimitVia of ['prlimit', 'ulimit'] as const) {
      const capped = runTool({ ...limits, command: 'nedlia-no-such-tool', memoryLimitBytes, memoryLimitVia });
      await expect(capped, memoryLimitVia).rejects.toBeInstanceOf(ToolStartError);
      await expect(runTool({ ...limits, command: '/etc/passwd', memoryLimitBytes, memoryLimitVia }), memoryLimitVia).rejects.toBeInstanceOf(ToolStartError);
    }
  });
});
