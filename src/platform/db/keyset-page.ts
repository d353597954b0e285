/**
 * Keyset pagination over (created_at, id), oldest first. The cursor is opaque to
 * clients: base64url of the last row's created_at in epoch microseconds (exact,
 * unlike a JavaScript Date) and its id.
 */
import { sql, type SelectQueryBuilder } from 'kysely';
import { prepared } from './prepared-statements.js';
import type { Executor } from './schema.js';
import { DomainError } from '../errors.js';

export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface Position {
  micros: string;
  id: string;
}

const POSITION = /^(\d{1,17}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodeCursor(position: Position): string {
  return Buffer.from(`${position.micros}:${position.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  const match = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? POSITION.exec(Buffer.from(cursor, 'base64url').toString()) : null;
  if (!match) {
    throw new DomainError('invalid', 'REQUEST.INVALID_CURSOR', 'the cursor is not one this API returned: start again without it', [
      { path: '/query/cursor', message: 'is not a valid cursor' },
    ]);
  }
  return { micros: match[1] as string, id: match[2] as string };
}

/** Adds the cursor column, the keyset condition, the order and limit + 1 (to know if more follow). */
export function pageOf<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, table: string, page: PageRequest) {
  const createdAt = sql.ref(`${table}.created_at`);
  const id = sql.ref(`${table}.id`);
  let q = query.select(sql<string>`(extract(epoch from ${createdAt}) * 1000000)::bigint::text`.as('cursor_micros'));
  if (page.cursor) {
    const after = decodeCursor(page.cursor);
    q = q.where(
      sql<boolean>`(${createdAt}, ${id}) > (timestamptz 'epoch' + ${after.micros}::bigint * interval '1 microsecond', ${after.id}::uuid)`,
    );
  }
  return q.orderBy(createdAt).orderBy(id).limit(page.limit + 1);
}

/**
 * Runs `pageOf(query)` as a prepared statement: a list's SQL depends only on which
 * filters are present (its values are parameters), so each shape is planned once per
 * connection, not on every page request. The query must name its columns: a prepared
 * `SELECT *` fails once a migration adds a column while the service runs.
 */
export async function readPage<DB, TB extends keyof DB, O>(db: Executor, query: SelectQueryBuilder<DB, TB, O>, table: string, page: PageRequest) {
  const compiled = pageOf(query, table, page).compile();
  return (await db.executeQuery(prepared(compiled))).rows;
}

/** Cuts the extra row off and makes the next cursor from the last row kept. */
export function toPage<R extends { id: string; cursor_micros: string }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    items: kept.map(map),
    nextCursor: rows.length > limit && last ? encodeCursor({ micros: last.cursor_micros, id: last.id }) : null,
  };
}
