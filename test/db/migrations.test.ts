import { sql, type Kysely, type Migration } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations } from '../../src/platform/db/migrations/index.js';
import { MigrationError, migrateUp, migrateToEmpty, migrationStatus } from '../../src/platform/db/migrator.js';
import { ensureEventLogPartitions, listEventLogPartitions, partitionName } from '../../src/platform/db/partitions.js';
import { engine, openEmptyDatabase, openTestDatabase, type TestDatabase } from '../support/engine.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/** Everything about the schema that a migration can change, as comparable text. */
async function catalog(db: AnyDb): Promise<unknown> {
  const q = async (query: ReturnType<typeof sql>) => (await query.execute(db)).rows;
  return {
    columns: await q(sql`
      SELECT table_name, column_name, data_type, is_nullable, column_default, character_maximum_length,
             numeric_precision, numeric_scale
      FROM information_schema.columns WHERE table_schema = current_schema()
      ORDER BY table_name, column_name`),
    constraints: await q(sql`
      SELECT c.conrelid::regclass::text AS table_name, c.conname, pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE n.nspname = current_schema() ORDER BY 1, 2, 3`),
    indexes: await q(sql`
      SELECT tablename, indexname, indexdef FROM pg_indexes
      WHERE schemaname = current_schema() ORDER BY tablename, indexname`),
    sequences: await q(sql`
      SELECT sequence_name FROM information_schema.sequences
      WHERE sequence_schema = current_schema() ORDER BY 1`),
    partitions: await q(sql`
      SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c
      WHERE c.relispartition AND c.relnamespace = current_schema()::regnamespace ORDER BY 1`),
  };
}

async function tableNames(db: AnyDb): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = current_schema() ORDER BY 1`.execute(db);
  return rows.map((r) => r.table_name);
}

describe(`migrations on ${engine}`, () => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('up → down → up leaves an identical schema, and down leaves only the bookkeeping', async () => {
    database = await openEmptyDatabase();
    const db = database.db;
    expect(await migrateUp(db, migrations)).toEqual(Object.keys(migrations));
    const first = await catalog(db);
    expect(await tableNames(db)).toEqual(
      expect.arrayContaining(['advertisers', 'campaigns', 'campaign_products', 'products', 'videos', 'placements',
        'validation_runs', 'event_log', 'users', 'transcripts']),
    );

    expect(await migrateToEmpty(db, migrations)).toEqual(Object.keys(migrations).reverse());
    expect(await tableNames(db)).toEqual(['schema_migrations', 'schema_migrations_lock']);

    await migrateUp(db, migrations);
    expect(await catalog(db)).toEqual(first);
    expect((await migrationStatus(db, migrations)).every((m) => m.executedAt instanceof Date)).toBe(true);
  });

  it('a failing migration changes nothing and names the file that failed', async () => {
    database = await openEmptyDatabase();
    const db = database.db;
    await migrateUp(db, migrations);
    const before = await catalog(db);
    const broken: Record<string, Migration> = {
      ...migrations,
      '9998-add-column': {
        up: async (d) => void (await sql`ALTER TABLE placements ADD COLUMN extra TEXT`.execute(d)),
        down: async (d) => void (await sql`ALTER TABLE placements DROP COLUMN extra`.execute(d)),
      },
      '9999-broken': {
        up: async (d) => void (await sql`ALTER TABLE no_such_table ADD COLUMN x INT`.execute(d)),
        down: async () => undefined,
      },
    };
    const failure = await migrateUp(db, broken).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).migration).toBe('9999-broken');
    expect((failure as Error).message).toMatch(/migration 9999-broken failed: .*no_such_table/);
    expect(await catalog(db)).toEqual(before);
    const pending = (await migrationStatus(db, broken)).filter((m) => !m.executedAt).map((m) => m.name);
    expect(pending).toEqual(['9998-add-column', '9999-broken']);
  });

  it('creates the event_log partitions of this month and the next, and maintenance keeps them ahead', async () => {
    database = await openEmptyDatabase();
    const db = database.db;
    await migrateUp(db, migrations);
    const now = new Date();
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    expect(await listEventLogPartitions(db)).toEqual([partitionName(now), partitionName(next)]);

    // A service started in a later month makes that month's partitions before inserting.
    const later = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 14, 15));
    await ensureEventLogPartitions(db, later, 2);
    const partitions = await listEventLogPartitions(db);
    for (let i = 0; i <= 2; i++) {
      expect(partitions).toContain(partitionName(new Date(Date.UTC(later.getUTCFullYear(), later.getUTCMonth() + i, 1))));
    }
    await sql`INSERT INTO event_log (event_type, aggregate_type, aggregate_id, data, created_at)
              VALUES ('com.nedlia.test', 'test', gen_random_uuid(), '{}', ${later.toISOString()})`.execute(db);
    // Running it again is harmless.
    await ensureEventLogPartitions(db, later, 2);
    expect(await listEventLogPartitions(db)).toEqual(partitions);
  });

  it('lets processes preparing one database at once make the same partitions without failing', async () => {
    database = await openTestDatabase();
    const db = database.db;
    // An api and a worker started together both ensure the coming months: on PostgreSQL
    // their CREATE TABLE IF NOT EXISTS race (a duplicate pg_type row) unless serialized.
    for (let round = 1; round <= 5; round++) {
      const month = new Date(Date.UTC(2040 + round, 0, 1));
      await Promise.all(Array.from({ length: 6 }, () => ensureEventLogPartitions(db, month, 2)));
      expect(await listEventLogPartitions(db)).toContain(partitionName(month));
    }
  });
});
