/** What each CHECK constraint of the catalog's tables means to a caller (see platform/db/database-errors.ts). */
import { withDomainErrors, type ConstraintTable } from '../../platform/db/database-errors.js';

export const catalogConstraints: ConstraintTable = {
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

/** Runs `work`, rethrowing database errors as domain errors, CHECK violations of the catalog's tables included. */
export const withCatalogErrors = <T>(work: () => Promise<T>): Promise<T> => withDomainErrors(work, catalogConstraints);
