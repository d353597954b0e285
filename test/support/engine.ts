/**
 * The engine switch for database tests: `DB=pglite` (default) or `DB=postgres`
 * (against `TEST_DATABASE_URL`, default the local server). Every test file opens
 * its own database, cloned from the template that global-setup migrated.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { inject } from 'vitest';
import { openPglite, openPostgres, type DatabaseHandle, type Engine } from '../../src/platform/db/connect.js';

export const engine: Engine = process.env.DB === 'postgres' ? 'postgres' : 'pglite';

export const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(template: string | undefined): Promise<string> {
  const name = `nedlia_t_${inject('runId')}_${randomBytes(4).toString('hex')}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await withServer((c) => c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`));
      return name;
    } catch (error) {
      // Two clones of one template at the same instant: "source database is being accessed".
      if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

export interface TestDatabase extends DatabaseHandle {
  /** The connection string (postgres) or undefined (pglite). */
  url: string | undefined;
}

async function postgresDatabase(template: string | undefined): Promise<TestDatabase> {
  const name = await createDatabase(template);
  const url = databaseUrl(name);
  // Idle connections die when the database is dropped at the end: expected.
  const handle = openPostgres({ connectionString: url, max: 10, onIdleError: () => undefined });
  return {
    ...handle,
    url,
    async close() {
      await handle.close();
      await withServer((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** A migrated database of its own. */
export async function openTestDatabase(): Promise<TestDatabase> {
  if (engine === 'postgres') return postgresDatabase(inject('postgresTemplate'));
  const dump = await readFile(inject('pgliteTemplate'));
  const handle = await openPglite({ loadDataDir: new Blob([dump]) });
  return { ...handle, url: undefined };
}

/** An empty database (no migrations applied). */
export async function openEmptyDatabase(): Promise<TestDatabase> {
  if (engine === 'postgres') return postgresDatabase(undefined);
  return { ...(await openPglite()), url: undefined };
}

declare module 'vitest' {
  export interface ProvidedContext {
    runId: string;
    pgliteTemplate: string;
    postgresTemplate: string;
  }
}
