import { execFile } from 'node:child_process';
import { readdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openDevIssuer } from '../../src/platform/auth/dev-issuer.js';
import { engine } from '../support/engine.js';
import { spawnService, startService } from '../support/service-process.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-data-dir-'));
  dirs.push(dir);
  return dir;
}

/** Every path under `dir`, sorted. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

/** Runs `npm run cli -- <args>` on the embedded `dataDir`; resolves with its exit code and output. */
async function cli(dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1', LOG_LEVEL: 'warn', DATABASE_URL: '' };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/entry/cli/main.ts', ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const embedded = { DATABASE_URL: '' };

// The data directory of the embedded database; with DATABASE_URL there is none to guard.
describe.runIf(engine === 'pglite')('one owner per embedded data directory', () => {
  it('refuses a second service on a held DATA_DIR at once, naming the holder, without touching a file', async () => {
    const dataDir = await freshDataDir();
    const first = await startService({ ...embedded, DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' });
    try {
      const before = await tree(dataDir);
      const second = spawnService('src/entry/main.ts', { ...embedded, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0' });
      expect(await second.exit).toBe(1);
      expect(second.output()).toContain(`DATA_DIR=${dataDir} is in use by process ${first.child.pid} (npm start, serving ${first.url}`);
      expect(second.output()).toContain('Stop that process first');
      expect(await tree(dataDir)).toEqual(before);
      expect((await fetch(`${first.url}/health/ready`)).status).toBe(200);
    } finally {
      first.child.kill('SIGTERM');
      await first.exit;
    }
    // Released on exit: the next start takes it.
    expect(await tree(dataDir)).not.toContain('nedlia.lock');
  });

  // Restarting after a SIGKILL (a stale lock) is test/process/embedded-crash.test.ts's.

  it.each(['api', 'worker'])('refuses `%s` without DATABASE_URL before creating anything', async (mode) => {
    const dataDir = path.join(await freshDataDir(), 'never-made');
    const started = performance.now();
    const refused = spawnService('src/entry/main.ts', { ...embedded, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0' }, [mode]);
    expect(await refused.exit).toBe(1);
    expect(refused.output()).toContain(`failed to start: \`${mode}\` needs DATABASE_URL`);
    expect(refused.output()).toContain('Run `npm start` for everything in one process');
    expect(performance.now() - started).toBeLessThan(30_000);
    await expect(readdir(dataDir)).rejects.toThrow(/ENOENT/);
  });
});

describe.runIf(engine === 'pglite')('the CLI beside a running embedded service', () => {
  it('seeds, lists dead letters and reads the schema through the service; refuses to migrate under it', async () => {
    const dataDir = await freshDataDir();
    let service = await startService({ ...embedded, DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' });
    try {
      const seeded = await cli(dataDir, 'seed-demo');
      expect(seeded.code, seeded.stderr).toBe(0);
      expect(seeded.stdout).toContain(`through the service at ${service.url}`);
      const ids = Object.fromEntries(
        seeded.stdout
          .split('\n')
          .filter((l) => /^(advertiser|products|campaign|video|placements) /.test(l))
          .map((l) => [l.split(/\s+/)[0], l.split(/\s+/).slice(1)]),
      );
      expect(ids.placements).toHaveLength(3);

      const listed = await cli(dataDir, 'dead-letters', 'list');
      expect(listed).toMatchObject({ code: 0, stdout: 'no dead letters\n' });
      const status = await cli(dataDir, 'migrate', 'status');
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/^applied {2}0001-catalog {2}\d{4}-/);
      expect(status.stdout).not.toContain('pending');
      const up = await cli(dataDir, 'migrate', 'up');
      expect(up.code).toBe(1);
      expect(up.stderr).toContain(`migrate up: the service at ${service.url} (process ${service.child.pid}) holds DATA_DIR`);

      // What the CLI wrote is the service's own data, intact after a restart.
      service.child.kill('SIGTERM');
      expect(await service.exit).toBe(0);
      service = await startService({ ...embedded, DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' });
      const issuer = await openDevIssuer(dataDir, { create: false });
      const admin = await issuer.mint({ userId: 'test-admin', roles: ['admin'] });
      const get = (p: string) => fetch(`${service.url}${p}`, { headers: { authorization: `Bearer ${admin}` } });
      expect((await get(`/v1/advertisers/${ids.advertiser?.[0]}`)).status).toBe(200);
      for (const id of ids.products ?? []) {
        const product = (await (await get(`/v1/products/${id}`)).json()) as { advertiser_id: string };
        expect(product.advertiser_id).toBe(ids.advertiser?.[0]);
      }
      const placements = (await (await get(`/v1/videos/${ids.video?.[0]}/placements`)).json()) as { items: { id: string }[] };
      expect(placements.items.map((p) => p.id).sort()).toEqual([...(ids.placements ?? [])].sort());
    } finally {
      service.child.kill('SIGTERM');
      await service.exit;
    }
    // With no service, the CLI opens the directory itself.
    const direct = await cli(dataDir, 'dead-letters', 'list');
    expect(direct).toMatchObject({ code: 0, stdout: 'no dead letters\n' });
  });

  it('says a dead letter id is not a UUID without opening anything', async () => {
    const dataDir = path.join(await freshDataDir(), 'never-made');
    const shown = await cli(dataDir, 'dead-letters', 'show', 'not-a-uuid');
    expect(shown.code).toBe(1);
    expect(shown.stderr.trim()).toBe('dead-letters: "not-a-uuid" is not a dead letter id: ids are UUIDs, as `dead-letters list` prints them');
    await expect(readdir(dataDir)).rejects.toThrow(/ENOENT/);
  });
});
