/**
 * Who may do what in the catalog (the role table of API.md). Reads and writes
 * check here, in the use cases, so every entry point enforces the same
 * rules. A row the caller may not see is NOT_FOUND (never FORBIDDEN, which would
 * reveal that it exists); FORBIDDEN is for what a role may never do.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../../platform/db/schema.js';
import type { PlacementWithOwners } from '../placements/placement-repository.js';
import type { RowCache } from '../../../platform/cache/row-cache.js';
import { DomainError, notFound, type FieldError } from '../../../platform/errors.js';
import { advertiserScope, isAdmin, isCreator } from '../../../platform/auth/actor.js';
import type { CommandContext } from '../../../platform/events/command-context.js';

export interface CatalogDeps {
  db: Kysely<Database>;
  /** Serves GET of one placement without a query when given (kept right by the platform's row-change listener). */
  placementCache?: RowCache<PlacementWithOwners>;
}

/** A command: who and which request, plus the dependencies. */
export interface CatalogCommand extends CatalogDeps {
  context: CommandContext;
}

export const forbidden = (what: string): DomainError =>
  new DomainError('forbidden', 'ACCESS.FORBIDDEN', `your role may not ${what}`);

export const invalid = (code: string, message: string, errors: FieldError[]): DomainError =>
  new DomainError('invalid', code, message, errors);

/** Throws NOT_FOUND unless `visible`; then FORBIDDEN unless `allowed`. */
export function assertAccess(visible: boolean, allowed: boolean, resource: string, id: string, action: string): void {
  if (!visible) throw notFound(resource, id);
  if (!allowed) throw forbidden(`${action} this ${resource}`);
}

export { advertiserScope, isAdmin, isCreator };
