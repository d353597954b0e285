/**
 * Backups of the embedded database: taken through the admin route while writes go on,
 * restored into a fresh data directory, every row found; refused on PostgreSQL.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/entry/app.js';
import { BackupError, backupDatabase, restoreDatabase } from '../../src/platform/backup/data-dir-backup.js';
import { createJwtVerifier } from '../../src/platform/auth/jwt-verifier.js';
import { loadConfig } from '../../src/platform/config/config.js';
import { openPglite, type DatabaseHandle } from '../../src/platform/db/connect.js';
import { openDatabase } from '../../src/platform/db/open-database.js';
import { openTestDatabase } from '../support/engine.js';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer } from '../support/tokens.js';

let dir: string;
let dataDir: string;
let database: DatabaseHandle;
let app: App;
let admin: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-backup-'));
  dataDir = path.join(dir, 'data');
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, RATE_LIMIT_MAX: '0', DATABASE_URL: '' });
  const logger = pino({ level: 'silent' });
  database = await openDatabase(config, logger);
  const issuer = await createTestIssuer();
  admin = await issuer.mint({ roles: ['admin'] });
  app = await buildApp({ config, database, logger, verifyToken: createJwtVerifier({ jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE }) });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await database?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const advertisers = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ name: `Backup ${from + i}`, contact_email: `b${from + i}@backup.test` }));

describe('backup and restore of the embedded database', () => {
  it('takes a consistent copy through the admin route while writes go on, and a restore into a fresh directory finds every row', async () => {
    const before = await database.db.insertInto('advertisers').values(advertisers(200)).returning('id').execute();
    // A writer keeps committing while the backup is taken.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await database.db.insertInto('advertisers').values(advertisers(5, 1000 + written)).execute();
        written += 5;
        // PGlite answers without I/O: yield, or this loop alone would hold the event loop.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const res = await app.inject({ method: 'POST', url: '/v1/admin/backups', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: '{}' });
    writing = false;
    await writer;
    expect(res.statusCode, res.body).toBe(201);
    const taken = res.json() as { file: string; bytes: number; rows: Record<string, number> };
    expect(path.dirname(taken.file)).toBe(path.join(dataDir, 'backups'));
    expect((await stat(taken.file)).size).toBe(taken.bytes);
    expect(taken.rows.advertisers).toBeGreaterThanOrEqual(200);
    expect(written).toBeGreaterThan(0);

    const restored = path.join(dir, 'restored', 'pgdata');
    const result = await restoreDatabase(taken.file, restored);
    expect(result.rows).toEqual(taken.rows);
    const copy = await openPglite({ dataDir: restored });
    try {
      const ids = new Set((await copy.db.selectFrom('advertisers').select('id').execute()).map((r) => r.id));
      expect(ids.size).toBe(taken.rows.advertisers);
      for (const { id } of before) expect(ids.has(id)).toBe(true);
      // The schema came along: the restored database is at the same migration.
      const migrations = await copy.db.selectFrom('schema_migrations' as never).selectAll().execute();
      expect(migrations.length).toBeGreaterThan(0);
    } finally {
      await copy.close();
    }
  });

  it('refuses a damaged backup and a non-empty target, and changes nothing', async () => {
    const file = path.join(dir, 'manual.tar.gz');
    await backupDatabase(database, file);
    await expect(restoreDatabase(file, path.join(dataDir, 'pgdata'))).rejects.toThrow(/not empty/);
    const bytes = await readFile(file);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const target = path.join(dir, 'never', 'pgdata');
    await expect(restoreDatabase(file, target)).rejects.toThrow(BackupError);
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('on the test engine', () => {
  it('answers 409 on PostgreSQL and backs up PGlite', async () => {
    const db = await openTestDatabase();
    try {
      const file = path.join(dir, 'engine.tar.gz');
      if (db.engine === 'postgres') await expect(backupDatabase(db, file)).rejects.toThrow(/PostgreSQL server/);
      else expect((await backupDatabase(db, file)).bytes).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  });
});
