/**
 * Opens the database: PGlite in a local directory (embedded) or a PostgreSQL server
 * (`DATABASE_URL`). Both return the same `Kysely<Database>` with the same value types.
 */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PgliteDialect } from './pglite-dialect.js';
import { preparedStatementName } from './prepared-statements.js';
import type { Database } from './schema.js';

export type Engine = 'pglite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: Engine;
  /**
   * Delivers the payloads of `NOTIFY <channel>` until closed. `onLost` says that
   * delivery stopped (the listening connection died): nothing more arrives, and
   * what was announced meanwhile is lost; listen again to resume.
   */
  listen(channel: string, onPayload: (payload: string) => void, onLost: (error: Error) => void): Promise<Listener>;
  close(): Promise<void>;
}

export interface Listener {
  close(): Promise<void>;
}

const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

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
    // One session, in this process: it cannot be lost. PGlite hands notifications to
    // its callbacks as the committing statement returns. LISTEN goes through the
    // dialect, so it never lands inside another caller's transaction.
    async listen(channel, onPayload) {
      const stop = pglite.onNotification((from, payload) => {
        if (from === channel) onPayload(payload);
      });
      await sql.raw(`LISTEN ${quoteIdentifier(channel)}`).execute(db);
      // Closing only drops the callback: the session's LISTEN stays, since another
      // listener in this process may share it (an UNLISTEN would silence that one too).
      return {
        async close() {
          stop();
        },
      };
    },
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
    // A connection of its own, outside the pool (a pooled one would be shared).
    // TCP keepalive makes a silently dead peer an error within about a minute.
    async listen(channel, onPayload, onLost) {
      const client = new pg.Client({
        connectionString: options.connectionString,
        connectionTimeoutMillis: 10_000,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      });
      let ended = false;
      const lose = (error: Error) => {
        if (ended) return;
        ended = true;
        client.end().catch(() => undefined);
        onLost(error);
      };
      client.on('notification', (message) => {
        if (message.channel === channel) onPayload(message.payload ?? '');
      });
      client.on('error', lose);
      client.on('end', () => lose(new Error('the listening connection closed')));
      try {
        await client.connect();
        await client.query(`LISTEN ${quoteIdentifier(channel)}`);
      } catch (error) {
        ended = true;
        await client.end().catch(() => undefined);
        throw error;
      }
      return {
        async close() {
          if (ended) return;
          ended = true;
          await client.end().catch(() => undefined);
        },
      };
    },
    async close() {
      await db.destroy();
    },
  };
}
