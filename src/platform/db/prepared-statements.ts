/**
 * Statements run as named prepared statements on PostgreSQL: each pooled
 * connection parses and plans them once, then only binds and executes. Kept to a
 * few hot, fixed-SQL queries (the set must stay small and bounded: every name is
 * held by every connection for its lifetime). PGlite ignores this.
 *
 * Behind a pooler, named statements need session pooling, or PgBouncer 1.21+ with
 * `max_prepared_statements` set in transaction pooling.
 */
import type { CompiledQuery } from 'kysely';

const names = new Map<string, string>();

/** Registers `query`'s SQL under `name` and returns the query unchanged. */
export function preparedStatement<Q extends CompiledQuery<unknown>>(name: string, query: Q): Q {
  const known = [...names].find(([, n]) => n === name)?.[0];
  if (known !== undefined && known !== query.sql) throw new Error(`prepared statement ${name} is already registered with other SQL`);
  names.set(query.sql, name);
  return query;
}

/** The statement name for this exact SQL, if it was registered. */
export function preparedStatementName(sql: string): string | undefined {
  return names.get(sql);
}
