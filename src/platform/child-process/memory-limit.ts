/**
 * The memory limit of a tool run is a cap on its address space (RLIMIT_AS), set
 * between fork and exec by `prlimit --as=BYTES -- command args…` (util-linux), or,
 * where prlimit is missing, by `/bin/sh -c 'ulimit -v KiB && exec "$0" "$@"'`, which
 * passes the command and its arguments as positional parameters (never parsed by
 * the shell). Either way the tool execs in place, keeping its pid and process group.
 *
 * An address-space cap makes allocations fail rather than the kernel kill the
 * process, so running out shows as a failed exit with the tool's own out-of-memory
 * message, or a crash by signal: `ranOutOfMemory` reads both.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export type MemoryLimitVia = 'prlimit' | 'ulimit';

function onPath(name: string, pathVariable: string | undefined): string | undefined {
  for (const dir of (pathVariable ?? '/usr/bin:/bin').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

let prlimit: string | null | undefined;

/** The command line that runs `command args` with its address space capped at `bytes`. */
export function withMemoryLimit(
  command: string,
  args: readonly string[],
  bytes: number,
  prefer: MemoryLimitVia = 'prlimit',
): { command: string; args: string[]; via: MemoryLimitVia } {
  if (prlimit === undefined) prlimit = onPath('prlimit', process.env.PATH) ?? onPath('prlimit', '/usr/bin:/bin:/usr/sbin:/sbin') ?? null;
  if (prlimit && prefer === 'prlimit') return { command: prlimit, args: [`--as=${bytes}`, '--', command, ...args], via: 'prlimit' };
  const kib = Math.max(1, Math.floor(bytes / 1024));
  return { command: '/bin/sh', args: ['-c', `ulimit -v ${kib} && exec "$0" "$@"`, command, ...args], via: 'ulimit' };
}

const OUT_OF_MEMORY = /out of memory|cannot allocate memory|allocation failed|bad_alloc|ENOMEM|MemoryError|memory exhausted/i;
const CRASH_SIGNALS = new Set(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGTRAP']);

/** Whether a run under a memory cap most likely ended by reaching it. */
export function ranOutOfMemory(exitCode: number | null, signal: string | null, stderr: Buffer): boolean {
  if (exitCode === 0) return false;
  return (signal !== null && CRASH_SIGNALS.has(signal)) || OUT_OF_MEMORY.test(stderr.toString('utf8'));
}

/** The wrapper's own failure to exec the tool (126: not executable, 127: not found), as the tool's start error. */
export function wrapperExecFailure(via: MemoryLimitVia, exitCode: number | null, stderr: Buffer): Error | undefined {
  if (exitCode !== 126 && exitCode !== 127) return undefined;
  const text = stderr.toString('utf8');
  const failed = via === 'prlimit' ? /^prlimit: failed to execute .*$/m.exec(text) : /exec: .*(?:not found|Permission denied).*$/m.exec(text);
  return failed ? new Error(failed[0]) : undefined;
}
