/**
 * `npm run cli -- archive [--dry-run]` and `restore-archive` on a database with past
 * months (DB=pglite: an embedded DATA_DIR; DB=postgres: DATABASE_URL), run as the real CLI
 * in a child process, and in-process for what the child cannot show (the refusal while a
 * service holds the embedded DATA_DIR).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveCommand } from '../../../src/entry/cli/archive-command.js';
import { restoreArchiveCommand } from '../../../src/entry/cli/restore-archive-command.js';
import { loadConfig, type Config } from '../../../src/platform/config/config.js';
import { acquireDataDirLock } from '../../../src/platform/db/data-dir-lock.js';
import type { DatabaseHandle } from '../../../src/platform/db/connect.js';
import { openDatabase } from '../../../src/platform/db/open-database.js';
import type { Database } from '../../../src/platform/db/schema.js';
import { engine, openTestDatabase, type TestDatabase } from '../../support/engine.js';
import { PLAYBACK_CHARGES_PER_MONTH, PLAYBACK_EVENTS_PER_MONTH, fillPastMonth } from '../../support/past-partitions.js';

const run = promisify(execFile);
const EVENTS = 2_345;

let dir: string;
let env: Record<string, string>;
let config: Config;
/** PostgreSQL: the test's database, open for the whole file (the CLI brings its own pool). */
let server: TestDatabase | undefined;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/entry/cli/main.ts', ...args], { env: { ...process.env, ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The database, between CLI runs (the embedded one is opened only while no CLI runs). */
async function withDb<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  if (server) return work(server.db);
  const handle: DatabaseHandle = await openDatabase(config, pino({ level: 'silent' }));
  try {
    return await work(handle.db);
  } finally {
    await handle.close();
  }
}

const count = (table: string) => withDb(async (db) => {
  const { rows: [row] } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.raw(table)}`.execute(db);
  return Number(row?.n);
});
const exists = (table: string) => withDb(async (db) => {
  const { rows: [row] } = await sql<{ oid: string | null }>`SELECT to_regclass(${table})::text AS oid`.execute(db);
  return Boolean(row?.oid);
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-archive-cli-'));
  const dataDir = path.join(dir, 'data');
  if (engine === 'postgres') server = await openTestDatabase();
  env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, DATABASE_URL: server?.url ?? '', STORAGE: 'local' };
  config = loadConfig(env);
  await withDb((db) => fillPastMonth(db, '2025-01', EVENTS));
}, 180_000);

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`cli archive and restore-archive (${engine})`, () => {
  it('archive --dry-run lists the months past retention and changes nothing', async () => {
    const result = await cli(['archive', '--dry-run']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toEqual(expect.arrayContaining([
      'would archive event_log_2025_01 (event_log, 2025-01-01 to 2025-02-01)',
      'would archive playback_events_2025_01 (playback_events, 2025-01-01 to 2025-02-01)',
      'would archive playback_charges_2025_01 (playback_charges, 2025-01-01 to 2025-02-01)',
      'dry run: 3 partition(s), nothing changed',
    ]));
    expect(lines).toHaveLength(4);
    expect(await count('event_log_2025_01')).toBe(EVENTS);
  }, 180_000);

  it('archive exports, verifies and drops them; restore-archive loads one back with every row', async () => {
    const archived = await cli(['archive']);
    expect(archived.stderr).toBe('');
    expect(archived.code).toBe(0);
    expect(archived.stdout).toContain(`archived event_log_2025_01 (event_log): ${EVENTS} rows to archives/event_log/event_log_2025_01.ndjson.gz, verified, table dropped`);
    expect(archived.stdout).toContain(`archived playback_events_2025_01 (playback_events): ${PLAYBACK_EVENTS_PER_MONTH} rows`);
    expect(archived.stdout).toContain(`archived playback_charges_2025_01 (playback_charges): ${PLAYBACK_CHARGES_PER_MONTH} rows`);
    expect(await exists('event_log_2025_01')).toBe(false);

    // Nothing left to do.
    const again = await cli(['archive']);
    expect(again.stdout.trim()).toBe('nothing past its retention');

    const restored = await cli(['restore-archive', 'event_log', 'event_log_2025_01']);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain(`into table event_log_2025_01_restored: ${EVENTS} rows, checksums verified`);
    expect(await count('event_log_2025_01_restored')).toBe(EVENTS);

    const byKey = await cli(['restore-archive', 'archives/playback_charges/playback_charges_2025_01.manifest.json', '--into', 'charges_audit']);
    expect(byKey.code).toBe(0);
    expect(await count('charges_audit')).toBe(PLAYBACK_CHARGES_PER_MONTH);

    // Into a table that exists: refused, one line, exit 1.
    const twice = await cli(['restore-archive', 'event_log', 'event_log_2025_01']);
    expect(twice.code).toBe(1);
    expect(twice.stderr.trim().split('\n')).toHaveLength(1);
    expect(twice.stderr).toContain('event_log_2025_01_restored exists already');
  }, 180_000);

  it('restore-archive says what is wrong with its arguments', async () => {
    const none = await cli(['restore-archive']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('usage: npm run cli -- restore-archive TABLE PARTITION');
    const missing = await cli(['restore-archive', 'event_log', 'event_log_1999_01']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('no archive manifest archives/event_log/event_log_1999_01.manifest.json in storage');
    const badKey = await cli(['restore-archive', '../etc/passwd']);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('is not a manifest key');
    const badFlag = await cli(['archive', '--force']);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toContain("Unknown option '--force'");
  }, 180_000);

  it.runIf(engine === 'pglite')('refuses while a service holds the embedded DATA_DIR, and says the service archives by itself', async () => {
    const lock = await acquireDataDirLock(config.dataDir, { command: 'npm start (API, relay and consumers)', apiUrl: 'http://127.0.0.1:1' });
    try {
      await expect(archiveCommand(config, [], () => undefined)).rejects.toThrow(/in use by process .*archives by itself .*stop it to run archive now/);
      await expect(restoreArchiveCommand(config, ['event_log', 'event_log_2025_01'], () => undefined)).rejects.toThrow(/stop it to run restore-archive now/);
    } finally {
      lock.release();
    }
  }, 60_000);
});
