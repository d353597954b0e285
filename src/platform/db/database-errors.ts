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

interface ConstraintRule {
  code: string;
  message: string;
  paths: string[];
  kind?: 'invalid' | 'conflict';
}

/** `table.constraint` → what it means to a caller. */
const CONSTRAINTS: Record<string, ConstraintRule> = {
  'advertisers.chk_status': { code: 'ADVERTISER.INVALID_STATUS', message: 'status must be active or suspended', paths: ['/status'] },
  'campaigns.chk_budget': {
    code: 'CAMPAIGN.BUDGET_EXCEEDED',
    message: 'spent may never exceed budget',
    paths: ['/budget'],
    kind: 'conflict',
  },
  'campaigns.chk_budget_positive': { code: 'CAMPAIGN.INVALID_BUDGET', message: 'budget must not be negative', paths: ['/budget'] },
  'campaigns.chk_dates': { code: 'CAMPAIGN.INVALID_DATES', message: 'end_date must be after start_date', paths: ['/end_date'] },
  'campaigns.chk_status': {
    code: 'CAMPAIGN.INVALID_STATUS',
    message: 'status must be draft, active, paused or completed',
    paths: ['/status'],
  },
  'campaigns.chk_pricing': {
    code: 'CAMPAIGN.INVALID_PRICING',
    message: 'pricing model must be cpm, cpc or flat with a rate of at least 0',
    paths: ['/pricing'],
  },
  'videos.chk_duration': { code: 'VIDEO.INVALID_DURATION', message: 'duration must be greater than 0', paths: ['/duration'] },
  'videos.chk_status': { code: 'VIDEO.INVALID_STATUS', message: 'status must be processing, ready or archived', paths: ['/status'] },
  'videos.chk_analysis_status': {
    code: 'VIDEO.INVALID_ANALYSIS_STATUS',
    message: 'analysis_status must be queued, processing, completed or failed',
    paths: ['/analysis_status'],
  },
  'placements.chk_time_range': {
    code: 'PLACEMENT.INVALID_TIME_RANGE',
    message: 'start_time must be at least 0 and end_time greater than start_time',
    paths: ['/start_time', '/end_time'],
  },
  'placements.chk_status': {
    code: 'PLACEMENT.INVALID_STATUS',
    message: 'status must be draft, active or archived',
    paths: ['/status'],
  },
  'validation_runs.chk_status': {
    code: 'VALIDATION_RUN.INVALID_STATUS',
    message: 'status must be pending, running, completed or failed',
    paths: ['/status'],
  },
};

/** Foreign key column → the field a caller sent. */
const REFERENCE_PATHS: Record<string, string> = {
  advertiser_id: '/advertiser_id',
  video_id: '/video_id',
  product_id: '/product_id',
  campaign_id: '/campaign_id',
  owner_id: '/owner_id',
};

function fieldsOf(error: unknown): PgErrorFields | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? (error as PgErrorFields) : undefined;
}

/** The domain error a database error stands for, or undefined if it is not one we know. */
export function translateDatabaseError(error: unknown): DomainError | undefined {
  const pg = fieldsOf(error);
  if (!pg) return undefined;
  const options = { cause: error };
  switch (pg.code) {
    case '23514': {
      const rule = CONSTRAINTS[`${pg.table}.${pg.constraint}`];
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
      const path = (column && REFERENCE_PATHS[column]) || '/';
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

/** Runs `work`, rethrowing known database errors as domain errors. */
export async function withDomainErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw translateDatabaseError(error) ?? error;
  }
}
