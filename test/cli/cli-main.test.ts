import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { openDevIssuer } from '../../src/platform/auth/dev-issuer.js';
import { commands } from '../../src/entry/cli/main.js';
import { migrateUsage } from '../../src/entry/cli/migrate-command.js';
import { tokenUsage } from '../../src/entry/cli/token-command.js';
import { deadLettersUsage } from '../../src/entry/cli/dead-letters-command.js';
import { seedDemoUsage } from '../../src/entry/cli/seed-demo-command.js';
import { backupUsage } from '../../src/entry/cli/backup-command.js';
import { restoreUsage } from '../../src/entry/cli/restore-command.js';
import { archiveUsage } from '../../src/entry/cli/archive-command.js';
import { restoreArchiveUsage } from '../../src/entry/cli/restore-archive-command.js';

const run = promisify(execFile);
const dirs: string[] = [];

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/entry/cli/main.ts', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-cli-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('cli', () => {
  it('lists the usage each command module declares', () => {
    expect(Object.fromEntries(Object.entries(commands).map(([name, c]) => [name, c.usage]))).toEqual({
      migrate: migrateUsage,
      token: tokenUsage,
      'dead-letters': deadLettersUsage,
      'seed-demo': seedDemoUsage,
      backup: backupUsage,
      restore: restoreUsage,
      archive: archiveUsage,
      'restore-archive': restoreArchiveUsage,
    });
  });

  it('token refuses a DATA_DIR without an issuer key, says how to make one, and creates nothing', async () => {
    const dataDir = await tempDir();
    const result = await cli(['token', '--role', 'admin'], { AUTH_DEV_ISSUER: '1', DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('no development issuer key');
    expect(result.stderr).toContain('AUTH_DEV_ISSUER=1');
    await expect(readFile(path.join(dataDir, 'keys', 'dev-issuer.jwk.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('token signs with the key the service made', async () => {
    const dataDir = await tempDir();
    const issuer = await openDevIssuer(dataDir);
    const result = await cli(['token', '--role', 'admin'], { AUTH_DEV_ISSUER: '1', DATA_DIR: dataDir });
    expect(result.code).toBe(0);
    expect(decodeJwt(result.stdout.trim())).toMatchObject({ iss: issuer.issuer, 'cognito:groups': ['admin'] });
  });
});
