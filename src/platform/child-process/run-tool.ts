/**
 * Runs an external tool (ffmpeg, a transcriber, …) as a child process: the command
 * and its arguments exactly as given (no shell), in its own process group, with a
 * time limit (SIGTERM to the whole group, SIGKILL after a grace period), an output
 * limit per stream (the run is stopped as soon as stdout or stderr passes it), an
 * optional memory limit (`memory-limit.ts`), a working directory and an environment.
 * When the tool exits, whatever it left running in its group is killed.
 *
 * A run that ends by itself answers its exit code or signal, even a failing one; a
 * run stopped by a limit throws `ToolLimitError` naming the limit.
 */
import { spawn } from 'node:child_process';
import { ToolLimitError, ToolStartError } from './tool-errors.js';
import type { ToolLimit } from './tool-errors.js';
import { ranOutOfMemory, withMemoryLimit, wrapperExecFailure } from './memory-limit.js';
import type { MemoryLimitVia } from './memory-limit.js';

export interface ToolRequest {
  command: string;
  args?: readonly string[];
  cwd?: string;
  /** The whole environment of the tool. Default: PATH, HOME, LANG and TMPDIR of this process, nothing else (no secrets). */
  env?: Record<string, string>;
  input?: Buffer | string;
  timeoutMs: number;
  /** Bytes kept of stdout, and of stderr; one more stops the run. */
  maxOutputBytes: number;
  /** Address-space cap in bytes. */
  memoryLimitBytes?: number;
  /** How the cap is set: `prlimit` (default, when installed) or `ulimit` (`ulimit -v` in /bin/sh). */
  memoryLimitVia?: MemoryLimitVia;
  /** Between SIGTERM and SIGKILL (default 2 s). */
  killGraceMs?: number;
}

export interface ToolRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  stdout: Buffer;
  stderr: Buffer;
  memoryLimitVia?: MemoryLimitVia;
}

function defaultEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Sends `signal` to the process group led by `pid`; a group already gone is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // gone already
  }
}

export function runTool(request: ToolRequest): Promise<ToolRun> {
  const limited = request.memoryLimitBytes ? withMemoryLimit(request.command, request.args ?? [], request.memoryLimitBytes, request.memoryLimitVia) : undefined;
  const started = performance.now();
  const child = spawn(limited?.command ?? request.command, limited?.args ?? [...(request.args ?? [])], {
    cwd: request.cwd,
    env: request.env ?? defaultEnv(),
    detached: true,
    stdio: [request.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });

  const streams = { stdout: child.stdout, stderr: child.stderr };
  return new Promise<ToolRun>((resolve, reject) => {
    const output = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const sizes = { stdout: 0, stderr: 0 };
    let stopped: { limit: ToolLimit; detail: string } | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const stop = (limit: ToolLimit, detail: string) => {
      if (stopped || child.pid === undefined) return;
      stopped = { limit, detail };
      signalGroup(child.pid, 'SIGTERM');
      const pid = child.pid;
      killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), request.killGraceMs ?? 2_000);
    };
    const timer = setTimeout(() => stop('time', `${request.timeoutMs} ms`), request.timeoutMs);

    for (const name of ['stdout', 'stderr'] as const) {
      streams[name]?.on('data', (chunk: Buffer) => {
        const room = request.maxOutputBytes - sizes[name];
        if (room > 0) output[name].push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        sizes[name] += chunk.length;
        if (sizes[name] > request.maxOutputBytes) {
          stop('output', `more than ${request.maxOutputBytes} bytes on ${name}`);
          streams[name]?.destroy();
        }
      });
    }
    if (child.stdin && request.input !== undefined) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(request.input);
    }

    child.once('error', (error) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      if (child.pid === undefined) reject(new ToolStartError(request.command, error));
    });

    child.once('exit', (exitCode, signal) => {
      clearTimeout(timer);
      // The pipes close when every process holding them is gone; a survivor that left the group must not hold the run.
      const closeTimer = setTimeout(() => {
        streams.stdout?.destroy();
        streams.stderr?.destroy();
        finish();
      }, 1_000);
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(closeTimer);
        clearTimeout(killTimer);
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        const run: ToolRun = {
          exitCode,
          signal,
          durationMs: Math.round(performance.now() - started),
          stdout: Buffer.concat(output.stdout),
          stderr: Buffer.concat(output.stderr),
          ...(limited ? { memoryLimitVia: limited.via } : {}),
        };
        const notStarted = limited && wrapperExecFailure(limited.via, exitCode, run.stderr);
        if (notStarted) reject(new ToolStartError(request.command, notStarted));
        else if (stopped) reject(new ToolLimitError(request.command, stopped.limit, run, stopped.detail));
        else if (limited && ranOutOfMemory(exitCode, signal, run.stderr)) {
          reject(new ToolLimitError(request.command, 'memory', run, `${request.memoryLimitBytes} bytes of address space, via ${limited.via}`));
        } else resolve(run);
      };
      child.once('close', finish);
    });
  });
}
