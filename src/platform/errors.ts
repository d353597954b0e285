/**
 * Domain errors: a stable `code` (e.g. `PLACEMENT.INVALID_TIME_RANGE`), a `kind`
 * that the interface layer maps to a status, a message that tells the caller what
 * to do, and per-field details. No HTTP and no SQL here.
 */
export type ErrorKind =
  | 'invalid' // well-formed but breaks a rule (422)
  | 'not_found' // absent, deleted, or another tenant's (404)
  | 'conflict' // state conflict: duplicate, budget rule, concurrent update (409)
  | 'precondition_failed' // stale version (412)
  | 'precondition_required' // version missing (428)
  | 'unauthorized' // no or bad credentials (401)
  | 'forbidden' // authenticated but not allowed (403)
  | 'unavailable'; // a dependency is down (503)

export interface FieldError {
  /** JSON pointer-ish path of the offending field, e.g. `/end_time`. */
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly errors: FieldError[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, id: string): DomainError =>
  new DomainError('not_found', `${what.toUpperCase()}.NOT_FOUND`, `${what} ${id} does not exist`);
