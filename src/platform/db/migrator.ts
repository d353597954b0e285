/**
 * Runs migrations. Each run is one transaction on both engines (PostgreSQL has
 * transactional DDL), so a failing file leaves the schema exactly as it was.
 */
import { Migrator, NO_MIGRATIONS, type Kysely, type Migration, type MigrationResult } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema
type AnyKysely = Kysely<any>;

export const MIGRATION_TABLE = 'schema_migrations';

export class MigrationError extends Error {
  constructor(
    readonly migration: string | undefined,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      migration
        ? `migration ${migration} failed: ${reason} (nothing was applied)`
        : `migrations failed: ${reason}`,
      { cause },
    );
    this.name = 'MigrationError';
  }
}

export interface MigrationStatus {
  name: string;
  executedAt: Date | undefined;
}

function migratorFor(db: AnyKysely, migrations: Record<string, Migration>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
  });
}

function check(results: MigrationResult[] | undefined, error: unknown): string[] {
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new MigrationError(failed, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Applies every pending migration; returns the names applied. */
export async function migrateUp(db: AnyKysely, migrations: Record<string, Migration>): Promise<string[]> {
  const { results, error } = await migratorFor(db, migrations).migrateToLatest();
  return check(results, error);
}

/** Reverts the latest applied migration; returns its name, if any. */
export async function migrateDown(db: AnyKysely, migrations: Record<string, Migration>): Promise<string[]> {
  const { results, error } = await migratorFor(db, migrations).migrateDown();
  return check(results, error);
}

/** Reverts every applied migration. */
export async function migrateToEmpty(db: AnyKysely, migrations: Record<string, Migration>): Promise<string[]> {
  const { results, error } = await migratorFor(db, migrations).migrateTo(NO_MIGRATIONS);
  return check(results, error);
}

export async function migrationStatus(
  db: AnyKysely,
  migrations: Record<string, Migration>,
): Promise<MigrationStatus[]> {
  const infos = await migratorFor(db, migrations).getMigrations();
  return infos.map((m) => ({ name: m.name, executedAt: m.executedAt }));
}
