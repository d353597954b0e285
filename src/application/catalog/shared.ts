/** Small pieces every catalog use case uses. */
import type { Kysely } from 'kysely';
import { DomainError } from '../../domain/errors.js';
import { versionMismatch } from '../../infrastructure/db/repositories/versioned-rows.js';
import type { Database } from '../../infrastructure/db/schema.js';

/**
 * Runs `fn` in a transaction: in `db` itself when it already is one (an idempotent
 * request's, opened by the HTTP layer, which commits it with the stored response or
 * rolls it back), otherwise in a new one.
 */
export function transact<T>(db: Kysely<Database>, fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/** Fails early (nothing changes) when the caller's `If-Match` version is not the row's. */
export function assertVersion(resource: string, id: string, current: number, expected: number): void {
  if (current !== expected) throw versionMismatch(resource, id, current, expected);
}

/** Only the fields the caller actually sent, for `changes` in update events. */
export function sentFields<T extends object>(patch: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
}

export function assertSomethingToChange(patch: object): void {
  if (Object.keys(sentFields(patch)).length === 0) {
    throw new DomainError('invalid', 'REQUEST.EMPTY_PATCH', 'the body changes nothing: send at least one field', [{ path: '/', message: 'has no fields' }]);
  }
}
