/**
 * Migrates one template database per run: a PGlite data-dir dump, or a PostgreSQL
 * database that each test file clones with CREATE DATABASE … TEMPLATE.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { PGlite } from '@electric-sql/pglite';
import { fromPglite, openPostgres, typeParsers } from '../../src/platform/db/connect.js';
import { migrations } from '../../src/platform/db/migrations/index.js';
import { migrateUp } from '../../src/platform/db/migrator.js';
import { ensureEventLogPartitions } from '../../src/platform/db/partitions.js';
import { databaseUrl, engine, withServer } from './engine.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = `${process.pid}${randomBytes(2).toString('hex')}`;
  project.provide('runId', runId);
  if (engine === 'postgres') {
    const template = `nedlia_tpl_${runId}`;
    await withServer((c) => c.query(`CREATE DATABASE ${template}`));
    const handle = openPostgres({ connectionString: databaseUrl(template), max: 1 });
    await migrateUp(handle.db, migrations);
    await ensureEventLogPartitions(handle.db);
    await handle.close();
    project.provide('postgresTemplate', template);
    project.provide('pgliteTemplate', '');
    return async () => {
      await withServer(async (c) => {
        const { rows } = await c.query<{ datname: string }>(
          `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`,
          [`nedlia_t_${runId}_%`, template],
        );
        for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      });
    };
  }
  const pglite = await PGlite.create({ parsers: typeParsers });
  const handle = fromPglite(pglite);
  await migrateUp(handle.db, migrations);
  await ensureEventLogPartitions(handle.db);
  const file = path.join(os.tmpdir(), `nedlia-template-${runId}.tar`);
  const dump = await pglite.dumpDataDir('none');
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  await handle.close();
  project.provide('pgliteTemplate', file);
  project.provide('postgresTemplate', '');
  return async () => {
    await rm(file, { force: true });
  };
}
