/**
 * Opens the database: PGlite in a local directory (embedded) or a PostgreSQL server
 * (`DATABASE_URL`). Both return the same `Kysely<Database>` with the same value types.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { access, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type Dialect } from 'kysely';
import pg from 'pg';
import { connectionConfig } from './iam-auth.js';
import { CommittedWrites, watchCommittedWrites } from './committed-writes.js';
import { PgliteDialect } from './pglite-dialect.js';
import { preparedStatementName } from './prepared-statements.js';
import type { DataDirLock } from './data-dir-lock.js';
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
  /** Embedded in a `DATA_DIR`: this process's lock on it, released by `close`. */
  dataDirLock?: DataDirLock;
  /**
   * Embedded only: a consistent copy of the whole data directory (gzipped tar), taken
   * while no query or transaction runs (platform/backup/data-dir-backup.ts); `within` runs
   * first in the same hold, on the state the copy has.
   */
  dumpDataDir?(within?: (db: Kysely<Database>) => Promise<void>): Promise<Blob>;
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

/** A Kysely whose driver reports this process's committed writes (committed-writes.ts: the relay's wake). */
function watchedKysely(dialect: Dialect): Kysely<Database> {
  const writes = new CommittedWrites();
  const db = new Kysely<Database>({ dialect: writes.wrap(dialect) });
  watchCommittedWrites(db, writes);
  return db;
}

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

/**
 * PGlite, in a child process: creates the cluster in `dir` and shuts down cleanly. Run
 * as `node -e <this> <PGlite's module> <dir>`.
 */
const INITDB_CHILD = `
const { PGlite } = require(process.argv[1]);
PGlite.create({ dataDir: process.argv[2] })
  .then((pg) => pg.close())
  .then(() => process.exit(0), (error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

/** Bound on the child's initdb (seconds on a quiet machine, much longer on a crowded one). */
const INITDB_TIMEOUT_MS = 300_000;

/**
 * Creates the PostgreSQL cluster of an embedded data directory when it has none yet
 * (`dataDir` missing or empty); returns whether it did. Otherwise a no-op.
 *
 * PGlite runs initdb in a second WebAssembly instance beside the one that serves, and
 * the process keeps most of what both touched: a service started on a fresh directory
 * held twice the memory of the same service restarted. Here initdb runs in a child
 * process that exits, so the service opens a fresh directory as it reopens an existing
 * one. The cluster is made in `<dataDir>.init` and renamed into place once complete: a
 * start interrupted during initdb leaves no half-made cluster (which PGlite would take
 * for a database) but a staging directory that the next start discards.
 */
export async function initPgliteDataDir(dataDir: string): Promise<boolean> {
  const entries = await readdir(dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  // A directory with anything in it is PGlite's to judge (a database, or what it refuses).
  if (entries.length > 0) return false;
  const staging = `${dataDir}.init`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const pgliteModule = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', INITDB_CHILD, pgliteModule, staging],
      { timeout: INITDB_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const why = error.killed ? `did not finish within ${INITDB_TIMEOUT_MS / 1000} s` : stderr.trim().split('\n').slice(-5).join('\n') || error.message;
        reject(new Error(`creating the embedded database in ${dataDir} failed: ${why}`, { cause: error }));
      },
    );
  });
  await access(`${staging}/PG_VERSION`);
  await rmdir(dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(staging, dataDir);
  return true;
}

export function fromPglite(pglite: PGlite): DatabaseHandle {
  const db = watchedKysely(new PgliteDialect(pglite));
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
    // The one session, held for the dump: what it copies is the state between two transactions.
    dumpDataDir: (within) =>
      db.connection().execute(async (connection) => {
        await within?.(connection);
        await sql`CHECKPOINT`.execute(connection);
        return pglite.dumpDataDir('gzip');
      }),
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
  /** Bounded waits (milliseconds; 0 turns one off). See `DatabaseTimeouts`. */
  timeouts?: Partial<DatabaseTimeouts>;
  /**
   * How often a listening connection (`listen`) proves it still answers (ms; default
   * 5 s). A link that stalls without breaking would otherwise keep it silently deaf.
   */
  listenHeartbeatMs?: number;
  /** The password of each new connection, asked when it opens (IAM auth tokens: iam-auth.ts); the URL's otherwise. */
  password?: () => Promise<string>;
}

export interface DatabaseTimeouts {
  /** Opening a connection (TCP + start-up) or waiting for a free one in the pool; default 2 s. */
  connectMs: number;
  /** Client-side wait for one query's answer on a request path, so a stalled link fails fast; default 2 s. */
  queryMs: number;
  /**
   * The same wait for the service's own work (`asBackgroundWork`: migrations at start,
   * maintenance, the relay, consumers), whose statements may rightly take longer than a
   * request's budget; it only ends a wait on a stalled link. Default 15 s, past the
   * server's `statement_timeout`, so that the server's own verdict comes first.
   */
  backgroundQueryMs: number;
  /** Server-side `statement_timeout`; default 10 s. */
  statementMs: number;
  /** Server-side `idle_in_transaction_session_timeout`; default 10 s. */
  idleInTransactionMs: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = {
  connectMs: 2_000,
  queryMs: 2_000,
  backgroundQueryMs: 15_000,
  statementMs: 10_000,
  idleInTransactionMs: 10_000,
};

/** Which client-side query budget applies to the queries made inside a call chain. */
type QueryBudget = 'request' | 'background';
const budgetOfWork = new AsyncLocalStorage<QueryBudget>();

/**
 * Runs `work` (and everything it starts: timers, loops, callbacks) under the background
 * query budget instead of the request one. Queries made anywhere else are requests.
 */
export function asBackgroundWork<T>(work: () => T): T {
  return budgetOfWork.run('background', work);
}

/** The client-side budget for a query issued now, by the pool's settings; 0 for none. */
type BudgetOf = () => number;

/**
 * A pooled client that runs registered SQL (see prepared-statements.ts) as a named
 * prepared statement, and gives each query the client-side budget of the work it
 * belongs to (request or background); everything else goes through unchanged. Kysely
 * always calls `query(sql, parameters)`.
 */
class PreparingClient extends pg.Client {
  /** The budget of a query issued now; each pool's subclass sets it (see `openPostgres`). */
  budgetOf: BudgetOf = () => 0;
}
type AnyQuery = (this: PreparingClient, ...args: unknown[]) => unknown;
const plainQuery = pg.Client.prototype.query as AnyQuery;
(PreparingClient.prototype as unknown as { query: AnyQuery }).query = function (...args) {
  const [text, values] = args;
  const kyselyCall = args.length === 2 && typeof text === 'string' && Array.isArray(values);
  const name = kyselyCall ? preparedStatementName(text) : undefined;
  const budget = kyselyCall ? this.budgetOf() : 0;
  const result =
    name || budget > 0
      ? plainQuery.call(this, { text, values, ...(name ? { name } : {}), ...(budget > 0 ? { query_timeout: budget } : {}) })
      : plainQuery.apply(this, args);
  // A query that timed out on the client side leaves the connection waiting for an
  // answer that may never come (a stalled link): close it, so the pool replaces it
  // instead of queueing the next query behind the lost one.
  if (result instanceof Promise) {
    result.then(undefined, (error: unknown) => {
      if (error instanceof Error && error.message === 'Query read timeout') {
        (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      }
    });
  }
  return result;
};

export function openPostgres(options: PostgresOptions): DatabaseHandle {
  // The client-side query budget is for request paths: the service passes it from its
  // configuration. Other callers (migrations, tests, tools) get none unless they ask.
  const timeouts = { ...DEFAULT_DATABASE_TIMEOUTS, queryMs: 0, backgroundQueryMs: 0, ...options.timeouts };
  const budgetOf: BudgetOf = () => (budgetOfWork.getStore() === 'background' ? timeouts.backgroundQueryMs : timeouts.queryMs);
  // Each query gets the budget of the work it belongs to (none on the connection itself).
  class Client extends PreparingClient {
    override budgetOf = budgetOf;
  }
  const pool = new pg.Pool({
    Client,
    ...connectionConfig(options.connectionString, options.password),
    max: options.max ?? 10,
    connectionTimeoutMillis: timeouts.connectMs,
    ...(timeouts.statementMs > 0 ? { statement_timeout: timeouts.statementMs } : {}),
    ...(timeouts.idleInTransactionMs > 0 ? { idle_in_transaction_session_timeout: timeouts.idleInTransactionMs } : {}),
    keepAlive: true,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        typeParsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', (error, client) => {
    if (reported.has(client)) return;
    reported.add(client);
    options.onIdleError?.(error);
  });
  // The pool listens for errors only while a connection is idle. One checked out (in a
  // transaction, between two statements) that drops would emit 'error' with no
  // listener and stop the process; this listener stays for the connection's life. The
  // query in flight fails on its own, and the pool discards the broken connection
  // when it is released.
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      if (!reported.has(client)) {
        reported.add(client);
        options.onIdleError?.(error);
      }
    });
  });
  const reported = new WeakSet<pg.PoolClient>();
  const db = watchedKysely(new PostgresDialect({ pool }));
  return {
    db,
    engine: 'postgres',
    // A connection of its own, outside the pool (a pooled one would be shared).
    // TCP keepalive makes a silently dead peer an error within about a minute; a
    // heartbeat query bounded like the listen itself catches a stalled link sooner.
    async listen(channel, onPayload, onLost) {
      const heartbeatMs = options.listenHeartbeatMs ?? 5_000;
      const client = new pg.Client({
        ...connectionConfig(options.connectionString, options.password),
        connectionTimeoutMillis: timeouts.connectMs || 10_000,
        query_timeout: Math.max(heartbeatMs, 1_000),
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      });
      let ended = false;
      // Until LISTEN is in place a failure is the caller's rejected promise, not a loss:
      // reporting both would have the caller reconnect twice.
      let listening = false;
      const heartbeat: { timer?: NodeJS.Timeout } = {};
      const lose = (error: Error) => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat.timer);
        // The socket may be stalled: do not wait for a goodbye that cannot arrive.
        (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        client.end().catch(() => undefined);
        if (listening) onLost(error);
      };
      client.on('notification', (message) => {
        if (message.channel === channel) onPayload(message.payload ?? '');
      });
      client.on('error', lose);
      client.on('end', () => lose(new Error('the listening connection closed')));
      try {
        await client.connect();
        await client.query(`LISTEN ${quoteIdentifier(channel)}`);
        if (ended) throw new Error('the listening connection closed while it was being opened');
        listening = true;
      } catch (error) {
        ended = true;
        (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        await client.end().catch(() => undefined);
        throw error;
      }
      let beating = false;
      heartbeat.timer = setInterval(() => {
        if (beating || ended) return;
        beating = true;
        client.query('SELECT 1').then(
          () => (beating = false),
          (error: unknown) => lose(error instanceof Error ? error : new Error(String(error))),
        );
      }, heartbeatMs);
      heartbeat.timer.unref();
      return {
        async close() {
          if (ended) return;
          ended = true;
          clearInterval(heartbeat.timer);
          await client.end().catch(() => undefined);
        },
      };
    },
    async close() {
      await db.destroy();
    },
  };
}
