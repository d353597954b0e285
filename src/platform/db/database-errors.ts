/**
 * Turns database errors into domain errors, so a violated constraint reaches the
 * caller as a clear 409/422 with the field it concerns, never as raw SQL.
 */
import { DomainError, type FieldError } from '../errors.js';

interface PgErrorFields {
  code?: string;
  table?: string;
  constraint?: string;
  column?: string;
  detail?: string;
}

/** What a violated CHECK constraint means to a caller. */
export interface ConstraintRule {
  code: string;
  message: string;
  paths: string[];
  kind?: 'invalid' | 'conflict';
}

/** `table.constraint` → what it means to a caller; each feature declares those of its tables. */
export type ConstraintTable = Readonly<Record<string, ConstraintRule>>;

function fieldsOf(error: unknown): PgErrorFields | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? (error as PgErrorFields) : undefined;
}

/**
 * The domain error a database error stands for, or undefined if it is not one we know.
 * A violated CHECK is explained from `constraints`; without a table it is left as it is,
 * for the HTTP kernel, which knows every feature's.
 */
export function translateDatabaseError(error: unknown, constraints?: ConstraintTable): DomainError | undefined {
  const pg = fieldsOf(error);
  if (!pg) return undefined;
  const options = { cause: error };
  switch (pg.code) {
    case '23514': {
      if (!constraints) return undefined;
      const rule = constraints[`${pg.table}.${pg.constraint}`];
      if (!rule) {
        return new DomainError('invalid', 'CONSTRAINT.VIOLATED', `a rule of ${pg.table ?? 'the data'} was broken`, [], options);
      }
      const errors: FieldError[] = rule.paths.map((path) => ({ path, message: rule.message }));
      return new DomainError(rule.kind ?? 'invalid', rule.code, rule.message, errors, options);
    }
    case '23505':
      return new DomainError('conflict', 'RESOURCE.DUPLICATE', 'a resource with the same identity already exists', [], options);
    case '23503': {
      const column = /\((\w+)\)/.exec(pg.detail ?? '')?.[1];
      // The referencing column is named as the field a caller sends (advertiser_id, video_id, …).
      const path = column ? `/${column}` : '/';
      return new DomainError(
        'invalid',
        'REFERENCE.NOT_FOUND',
        'a referenced resource does not exist',
        [{ path, message: 'does not exist' }],
        options,
      );
    }
    case '23502':
      return new DomainError(
        'invalid',
        'FIELD.REQUIRED',
        `${pg.column ?? 'a field'} is required`,
        [{ path: `/${pg.column ?? ''}`, message: 'is required' }],
        options,
      );
    case '22003':
    case '22001':
      return new DomainError('invalid', 'FIELD.OUT_OF_RANGE', 'a value is too large or too long', [], options);
    case '40001':
    case '40P01':
      return new DomainError('conflict', 'CONCURRENT_UPDATE', 'a concurrent change won; retry the request', [], options);
    default:
      return undefined;
  }
}

/** Runs `work`, rethrowing known database errors as domain errors (CHECK violations explained from `constraints`, else as they are). */
export async function withDomainErrors<T>(work: () => Promise<T>, constraints?: ConstraintTable): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw translateDatabaseError(error, constraints) ?? error;
  }
}
