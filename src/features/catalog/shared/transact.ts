/** Small pieces every catalog use case uses. */
import type { Kysely } from 'kysely';
import { DomainError } from '../../../platform/errors.js';
import { versionMismatch } from './versioned-rows.js';
import type { Database } from '../../../platform/db/schema.js';

/**
 * Runs `fn` in a transaction: in `db` itself when it already is one (an idempotent
 * request's, opened by the HTTP layer, which commits it with the stored response or
 * rolls it back), otherwise in a new one.
 */
export function transact<T>(db: Kysely<Database>, fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/** `If-Match: *`: whatever version the row is at. */
export const ANY_VERSION = '*';
/** The version a change is conditional on: the one the caller read, or any. */
export type ExpectedVersion = number | typeof ANY_VERSION;

/**
 * The version the change applies at: the row's, when the caller's `If-Match` names
 * it or is `*`. Fails early (nothing changes) otherwise.
 */
export function matchVersion(resource: string, id: string, current: number, expected: ExpectedVersion): number {
  if (expected !== ANY_VERSION && current !== expected) throw versionMismatch(resource, id, current, expected);
  return current;
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
