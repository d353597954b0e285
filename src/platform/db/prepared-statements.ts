/**
 * Statements run as named prepared statements on PostgreSQL: each pooled
 * connection parses and plans them once, then only binds and executes. Kept to
 * hot queries of fixed shape (the set must stay small and bounded: every name is
 * held by every connection for its lifetime). PGlite ignores this.
 *
 * Behind a pooler, named statements need session pooling, or PgBouncer 1.21+ with
 * `max_prepared_statements` set in transaction pooling.
 */
import { createHash } from 'node:crypto';
import type { CompiledQuery } from 'kysely';

const names = new Map<string, string>();
const sqlByName = new Map<string, string>();

/** Registers `query`'s SQL under `name` and returns the query unchanged. */
export function preparedStatement<Q extends CompiledQuery<unknown>>(name: string, query: Q): Q {
  if (names.get(query.sql) === name) return query;
  const known = sqlByName.get(name);
  if (known !== undefined && known !== query.sql) throw new Error(`prepared statement ${name} is already registered with other SQL`);
  names.set(query.sql, name);
  sqlByName.set(name, query.sql);
  return query;
}

/**
 * `query` as a prepared statement named after its SQL. For queries a hot path builds
 * in a few shapes (a list's filters, present or not): each shape is one statement,
 * planned once per connection instead of on every request, where planning can cost
 * more than running. Values must travel as parameters, never in the SQL, or the set
 * of shapes would not be bounded; columns must be named, never `*`, or a column added
 * by a migration while the service runs would break the statement's result shape.
 */
export function prepared<Q extends CompiledQuery<unknown>>(query: Q): Q {
  const name = names.get(query.sql) ?? `q_${createHash('sha1').update(query.sql).digest('hex').slice(0, 20)}`;
  return preparedStatement(name, query);
}

/** The statement name for this exact SQL, if it was registered. */
export function preparedStatementName(sql: string): string | undefined {
  return names.get(sql);
}
