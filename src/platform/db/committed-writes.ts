/**
 * Tells this process when its own writes to a table have committed: after the commit
 * of a transaction that inserted into the table, or after an insert made outside a
 * transaction. The outbox relay uses it to wake at once when this process appended
 * events (`event_log`), instead of finding them at its next poll; nothing that writes
 * has to remember to say so.
 *
 * It sits in the Kysely driver (connect.ts wraps both engines' dialects): the driver
 * sees every statement of a connection and that connection's begin, commit and
 * rollback. Inserts built with Kysely are recognised by their operation node; raw
 * `sql` statements by an `INSERT INTO <table>` in their text. A write it misses (or a
 * rolled-back savepoint it does not) costs only an early or a late wake: listeners
 * are hints, never the source of truth.
 */
import {
  InsertQueryNode,
  RawNode,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

type Listener = () => void;

/** The committed-write listeners of one database (one per `Kysely` that connect.ts opens). */
export class CommittedWrites {
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #rawPatterns = new Map<string, RegExp>();

  /** Calls `listener` after each commit that wrote `table`; answers the function that stops it. */
  on(table: string, listener: Listener): () => void {
    let set = this.#listeners.get(table);
    if (!set) {
      set = new Set();
      this.#listeners.set(table, set);
      this.#rawPatterns.set(table, new RegExp(`\\binsert\\s+into\\s+"?${table}"?[\\s(]`, 'i'));
    }
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** The watched tables a statement inserts into (none for most statements). */
  tablesOf(query: CompiledQuery): string[] | undefined {
    if (this.#listeners.size === 0) return undefined;
    const node = query.query;
    if (InsertQueryNode.is(node)) {
      const name = node.into?.table.identifier.name;
      return name !== undefined && this.#listeners.has(name) ? [name] : undefined;
    }
    if (RawNode.is(node)) {
      const hit = [...this.#rawPatterns].filter(([, pattern]) => pattern.test(query.sql)).map(([table]) => table);
      return hit.length > 0 ? hit : undefined;
    }
    return undefined;
  }

  announce(tables: Iterable<string>): void {
    for (const table of tables) {
      for (const listener of this.#listeners.get(table) ?? []) {
        try {
          listener();
        } catch {
          // A listener's failure is its own: the commit happened regardless.
        }
      }
    }
  }

  /** The dialect with its driver watched. */
  wrap(dialect: Dialect): Dialect {
    return {
      createAdapter: () => dialect.createAdapter(),
      createQueryCompiler: () => dialect.createQueryCompiler(),
      createIntrospector: (db) => dialect.createIntrospector(db),
      createDriver: () => new WatchedDriver(dialect.createDriver(), this),
    };
  }
}

/** A connection that notes which watched tables it inserted into, until its transaction ends. */
class WatchedConnection implements DatabaseConnection {
  inTransaction = false;
  written: Set<string> | undefined;

  constructor(
    readonly inner: DatabaseConnection,
    private readonly writes: CommittedWrites,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.inner.executeQuery<R>(query);
    const tables = this.writes.tablesOf(query);
    if (tables) {
      if (this.inTransaction) for (const table of tables) (this.written ??= new Set()).add(table);
      else this.writes.announce(tables);
    }
    return result;
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

class WatchedDriver implements Driver {
  readonly #wrapped = new WeakMap<DatabaseConnection, WatchedConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly writes: CommittedWrites,
  ) {
    if (inner.savepoint) this.savepoint = (c, name, compile) => inner.savepoint!(innerOf(c), name, compile);
    if (inner.rollbackToSavepoint) this.rollbackToSavepoint = (c, name, compile) => inner.rollbackToSavepoint!(innerOf(c), name, compile);
    if (inner.releaseSavepoint) this.releaseSavepoint = (c, name, compile) => inner.releaseSavepoint!(innerOf(c), name, compile);
  }

  savepoint?: Driver['savepoint'];
  rollbackToSavepoint?: Driver['rollbackToSavepoint'];
  releaseSavepoint?: Driver['releaseSavepoint'];

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    let watched = this.#wrapped.get(connection);
    if (!watched) {
      watched = new WatchedConnection(connection, this.writes);
      this.#wrapped.set(connection, watched);
    }
    return watched;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.inner.beginTransaction(innerOf(connection), settings);
    const watched = connection as WatchedConnection;
    watched.inTransaction = true;
    watched.written = undefined;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const watched = connection as WatchedConnection;
    try {
      await this.inner.commitTransaction(innerOf(connection));
    } catch (error) {
      watched.inTransaction = false;
      watched.written = undefined;
      throw error;
    }
    const written = watched.written;
    watched.inTransaction = false;
    watched.written = undefined;
    if (written) this.writes.announce(written);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const watched = connection as WatchedConnection;
    watched.inTransaction = false;
    watched.written = undefined;
    await this.inner.rollbackTransaction(innerOf(connection));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(innerOf(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

const innerOf = (connection: DatabaseConnection): DatabaseConnection =>
  connection instanceof WatchedConnection ? connection.inner : connection;

const byDatabase = new WeakMap<object, CommittedWrites>();

/** Registers the watcher of a database (connect.ts, when it opens one). */
export function watchCommittedWrites(db: object, writes: CommittedWrites): void {
  byDatabase.set(db, writes);
}

/**
 * Calls `listener` after every commit in this process that inserted into `table` of
 * `db`; answers the function that stops it. A database not opened by connect.ts has
 * no watcher: the listener is never called.
 */
export function onCommittedWrite(db: object, table: string, listener: () => void): () => void {
  return byDatabase.get(db)?.on(table, listener) ?? (() => undefined);
}
