/**
 * Opens the database: PGlite in a local directory (embedded) or a PostgreSQL server
 * (`DATABASE_URL`). Both return the same `Kysely<Database>` with the same value types.
 */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PgliteDialect } from './pglite-dialect.js';
import { preparedStatementName } from './prepared-statements.js';
import type { Database } from './schema.js';

export type Engine = 'pglite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: Engine;
  close(): Promise<void>;
}

const OID = { int8: 20, date: 1082, numeric: 1700, timestamp: 1114 } as const;
const identity = (value: string): string => value;

/** Value parsers shared by both engines, so rows look the same whichever runs. */
export const typeParsers: Record<number, (value: string) => unknown> = {
  [OID.int8]: (value) => Number(value),
  [OID.date]: identity,
  [OID.numeric]: identity,
};

export interface PgliteOptions {
  /** Directory to persist into; omit for an in-memory database. */
  dataDir?: string;
  /** A data directory dump (from `dumpDataDir`) to start from. */
  loadDataDir?: Blob | File;
}

export async function openPglite(options: PgliteOptions = {}): Promise<DatabaseHandle> {
  const pglite = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    parsers: typeParsers,
  });
  return fromPglite(pglite);
}

export function fromPglite(pglite: PGlite): DatabaseHandle {
  const db = new Kysely<Database>({ dialect: new PgliteDialect(pglite) });
  return {
    db,
    engine: 'pglite',
    async close() {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

export interface PostgresOptions {
  connectionString: string;
  /** Pool size; default 10. */
  max?: number;
  /**
   * Called when an idle pooled connection dies (server restart, failover, a
   * terminated backend). The pool drops that connection and opens a new one on the
   * next query; without a listener, the error would crash the process.
   */
  onIdleError?: (error: Error) => void;
}

/**
 * A pooled client that runs registered SQL (see prepared-statements.ts) as a named
 * prepared statement; everything else goes through unchanged. Kysely always calls
 * `query(sql, parameters)`.
 */
class PreparingClient extends pg.Client {}
type AnyQuery = (this: pg.Client, ...args: unknown[]) => unknown;
const plainQuery = pg.Client.prototype.query as AnyQuery;
(PreparingClient.prototype as unknown as { query: AnyQuery }).query = function (...args) {
  const [text, values] = args;
  const name = args.length === 2 && typeof text === 'string' && Array.isArray(values) ? preparedStatementName(text) : undefined;
  return name ? plainQuery.call(this, { name, text, values }) : plainQuery.apply(this, args);
};

export function openPostgres(options: PostgresOptions): DatabaseHandle {
  const pool = new pg.Pool({
    Client: PreparingClient,
    connectionString: options.connectionString,
    max: options.max ?? 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        typeParsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    engine: 'postgres',
    async close() {
      await db.destroy();
    },
  };
}
