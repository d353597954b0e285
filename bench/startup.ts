/**
 * `npm run bench:startup`: time from launching the service to `/health/ready` answering
 * 200, the CPU it spent until then, and its resident memory once idle, for:
 *
 * - `npm start` on a fresh data directory, then twice more on the same one (restarts);
 * - the same restart in development (`node --import tsx src/entry/main.ts`, TypeScript
 *   compiled at start), for comparison;
 * - a scaled-out API process (`npm run api`) on a fresh PostgreSQL database of
 *   BENCH_DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/postgres),
 *   migrated before with `npm run migrate -- up`, as production does.
 *
 * `npm start` and `npm run api` run as a user runs them (npm, the build check of
 * scripts/build.mjs, then the built service); the build is made once before the first
 * measurement, so none of them includes a rebuild. Each row also gives the phases the
 * service's ready line reports (`startup_phases`, milliseconds; `modules` is Node's own
 * start and the loading of the service's modules). BENCH_IDLE_MS (5000) is how long a
 * service sits idle before its memory is read.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../test/support/processes.js';

const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 5000);
const PG_SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = path.resolve(import.meta.dirname, '..');
/** The npm that runs this script (npm_execpath), or the one on PATH. */
const NPM = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
const run = promisify(execFile);

const TICKS_PER_SECOND = 100;

async function procStatus(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024);
  return { rss: mb('VmRSS'), peak: mb('VmHWM') };
}

/** User + system CPU seconds of `pid` so far (its threads included: compilers, GC; and its waited-for children). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, and those of the children it waited for (initdb runs in one).
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

/** `root` or its descendant whose command line contains `marker` (the service under npm and sh). */
async function descendant(root: number, marker: string): Promise<number | undefined> {
  if ((await readFile(`/proc/${root}/cmdline`, 'utf8').catch(() => '')).includes(marker)) return root;
  const parents = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  for (const [pid] of parents) {
    let up: number | undefined = pid;
    while (up !== undefined && up > 1 && up !== root) up = parents.get(up);
    if (up !== root) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) return pid;
  }
  return undefined;
}

interface Row {
  run: string;
  'ready (ms)': number;
  'CPU to ready (s)': number;
  'idle RSS (MB)': number;
  'peak RSS (MB)': number;
  phases: string;
}

/** Starts `command` (env added), waits for /health/ready, idles, reads the service's figures, stops it. */
async function once(label: string, command: string[], marker: string, env: Record<string, string>): Promise<Row> {
  const port = await freePort();
  let output = '';
  const started = performance.now();
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let exited = false;
  void exit.then(() => (exited = true));
  let readyMs = -1;
  for (let i = 0; i < 6000 && !exited; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200) {
        readyMs = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  const pid = exited || child.pid === undefined ? undefined : await descendant(child.pid, marker);
  if (readyMs < 0 || pid === undefined) {
    child.kill('SIGKILL');
    throw new Error(`${label}: the service did not become ready:\n${output}`);
  }
  const cpu = await cpuSeconds(pid);
  await sleep(IDLE_MS);
  const memory = await procStatus(pid);
  process.kill(pid, 'SIGTERM');
  await exit;
  const ready = output.split('\n').find((line) => line.includes('"startup_phases"'));
  const phases = ready ? (JSON.parse(ready) as { startup_phases: Record<string, number> }).startup_phases : {};
  return {
    run: label,
    'ready (ms)': Math.round(readyMs),
    'CPU to ready (s)': Math.round(cpu * 100) / 100,
    'idle RSS (MB)': memory.rss,
    'peak RSS (MB)': memory.peak,
    phases: Object.entries(phases).map(([k, v]) => `${k} ${v}`).join(', '),
  };
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(
  `bench:startup — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${load()}; ` +
    `memory read after ${IDLE_MS} ms idle`,
);
await run(process.execPath, ['scripts/build.mjs'], { cwd: ROOT });

const rows: Row[] = [];
const npmStart = [...NPM, 'start', '--silent'];
const SERVICE = 'dist/service/entry/main.js';
const dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-startup-'));
try {
  rows.push(await once('npm start, fresh DATA_DIR', npmStart, SERVICE, { DATA_DIR: dir }));
  rows.push(await once('npm start, restart', npmStart, SERVICE, { DATA_DIR: dir }));
  rows.push(await once('npm start, restart', npmStart, SERVICE, { DATA_DIR: dir }));
  rows.push(await once('tsx src/entry/main.ts, restart', [process.execPath, '--import', 'tsx', 'src/entry/main.ts'], 'src/entry/main.ts', { DATA_DIR: dir }));
} finally {
  await rm(dir, { recursive: true, force: true });
}

const name = `nedlia_startup_${process.pid}_${randomUUID().slice(0, 8)}`;
const admin = new pg.Client({ connectionString: PG_SERVER });
await admin.connect();
try {
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_SERVER);
  url.pathname = `/${name}`;
  const apiDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-startup-api-'));
  try {
    const env = { DATABASE_URL: url.toString(), DATA_DIR: apiDir };
    await run(NPM[0]!, [...NPM.slice(1), 'run', '--silent', 'migrate', '--', 'up'], { cwd: ROOT, env: { ...process.env, ...env } });
    rows.push(await once('npm run api, PostgreSQL', [...NPM, 'run', '--silent', 'api'], SERVICE, env));
  } finally {
    await rm(apiDir, { recursive: true, force: true });
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

console.table(rows.map(({ phases: _phases, ...figures }) => figures));
for (const row of rows) console.log(`${row.run}: ${row.phases}`);
console.log(`load average after: ${load()}`);
