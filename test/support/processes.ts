/**
 * Child processes of the service for tests and benchmarks: a free port, and the service
 * started the way `npm start` (or `npm run api|worker`) does. No test runner needed, so
 * bench scripts use these too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A TCP port nothing listens on right now (loopback). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** The service's `entry` (src/entry/main.ts) with `args` (a mode) in a child process, its stdout and stderr collected. */
export function spawnService(
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
): { child: ChildProcess; output(): string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}
