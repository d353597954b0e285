/**
 * Shared by the fault tests that run real processes: spawning a mode of the service
 * with its JSON log lines, a test issuer whose JWKS the processes read from a file,
 * and a load of placement creates recording each request's status and latency.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnService } from '../support/processes.js';
import { createTestIssuer, TEST_AUDIENCE, TEST_ISSUER } from '../support/tokens.js';

export { freePort } from '../support/processes.js';

export interface ModeProcess {
  child: ChildProcess;
  exit: Promise<number | null>;
  output(): string;
  lines(): Record<string, unknown>[];
  /** Log lines with this `msg`. */
  said(msg: string): Record<string, unknown>[];
  alive(): boolean;
}

export function spawnMode(mode: string, env: Record<string, string>): ModeProcess {
  const service = spawnService('src/entry/main.ts', env, [mode]);
  const lines = () =>
    service
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const alive = () => service.child.exitCode === null && service.child.signalCode === null;
  return { ...service, lines, said: (msg) => lines().filter((l) => l.msg === msg), alive };
}

/**
 * What a process said of one kind of outage, in order: `down` and `up` lines alternate,
 * starting with `down`, when each outage is said once and its end once (never once per
 * retry). With `by`, per value of that field (each postgres-bus subscription reports its
 * own outage, naming its consumer). Counting lines instead would depend on the machine:
 * on a loaded one a check can time out outside a cut too, and that outage is rightly
 * reported, once.
 */
export function outageLog(
  process_: Pick<ModeProcess, 'lines'>,
  down: string,
  up: string,
  by?: string,
): { downs: number; ups: number; alternates: boolean; sequence: string } {
  const said = process_.lines().filter((l) => l.msg === down || l.msg === up);
  const groups = new Map<unknown, string[]>();
  for (const line of said) groups.set(by ? line[by] : '', [...(groups.get(by ? line[by] : '') ?? []), String(line.msg)]);
  const alternates = [...groups.values()].every((msgs) => msgs.every((msg, i) => msg === (i % 2 === 0 ? down : up)));
  const downs = said.filter((l) => l.msg === down).length;
  const sequence = [...groups.entries()].map(([key, msgs]) => `${by ? `${String(key)}: ` : ''}${msgs.map((m) => (m === down ? 'down' : 'up')).join(' ')}`).join('; ');
  return { downs, ups: said.length - downs, alternates, sequence };
}

/**
 * Starts the all-in-one service (`npm start`) on a free port and waits until it is
 * ready; if it exits first, the error says how (code or signal) and what it printed.
 */
export async function startAllInOne(env: Record<string, string>, timeoutMs = 90_000): Promise<ModeProcess & { url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = spawnMode('all', { HOST: '127.0.0.1', PORT: String(port), ...env });
  try {
    await until(async () => !service.alive() || (await fetch(`${url}/health/ready`).catch(() => undefined))?.status === 200, timeoutMs, 'the service ready');
  } catch (error) {
    service.child.kill('SIGKILL');
    throw error;
  }
  if (!service.alive()) {
    throw new Error(`the service exited (code ${service.child.exitCode}, signal ${service.child.signalCode}) before it was ready:\n${service.output()}`);
  }
  return { ...service, url };
}

/** Stops a process with SIGTERM (SIGKILL if it does not exit within 15 s); its exit code. */
export async function stop(process_: Pick<ModeProcess, 'child' | 'exit'> | undefined): Promise<number | null | undefined> {
  if (!process_) return undefined;
  if (process_.child.exitCode !== null || process_.child.signalCode !== null) return process_.exit;
  process_.child.kill('SIGTERM');
  const timer = setTimeout(() => process_.child.kill('SIGKILL'), 15_000);
  const code = await process_.exit;
  clearTimeout(timer);
  return code;
}

/** An RS256 issuer whose JWKS is in a file the service reads (AUTH_JWKS_URL=file://). */
export async function fileIssuer(): Promise<{ env: Record<string, string>; adminToken: string; cleanup(): Promise<void> }> {
  const issuer = await createTestIssuer();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-faults-'));
  const file = path.join(dir, 'jwks.json');
  await writeFile(file, JSON.stringify(issuer.jwks));
  return {
    env: { AUTH_JWKS_URL: `file://${file}`, AUTH_ISSUER: TEST_ISSUER, AUTH_AUDIENCE: TEST_AUDIENCE, DATA_DIR: dir },
    adminToken: await issuer.mint({ roles: ['admin'] }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface Sample {
  startedAt: number;
  ms: number;
  status: number;
  code?: string;
  contentType?: string;
  id?: string;
}

/** POSTs JSON; `status` 0 when the request itself failed (connection refused, reset). */
export async function post(url: string, token: string, body: unknown, timeoutMs = 15_000): Promise<Sample> {
  const startedAt = performance.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : {}) as { id?: string; code?: string };
    return {
      startedAt,
      ms: performance.now() - startedAt,
      status: res.status,
      ...(json.code ? { code: json.code } : {}),
      ...(json.id ? { id: json.id } : {}),
      ...(res.headers.get('content-type') ? { contentType: res.headers.get('content-type') as string } : {}),
    };
  } catch {
    return { startedAt, ms: performance.now() - startedAt, status: 0 };
  }
}

/**
 * `concurrency` loops each sending one request after the other until stopped; every
 * sample is kept. Used to put placement creates in flight through a cut.
 */
export function load(send: () => Promise<Sample>, concurrency: number): { samples: Sample[]; stop(): Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) samples.push(await send());
  });
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Polls until `probe` is truthy; fails after `timeoutMs`. Returns the time it took (ms). */
export async function until(probe: () => Promise<unknown> | unknown, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await probe()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
