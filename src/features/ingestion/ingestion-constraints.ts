/** What the CHECKs of ingestion's columns mean to a caller (see platform/db/database-errors.ts). */
import type { ConstraintTable } from '../../platform/db/database-errors.js';

export const ingestionConstraints: ConstraintTable = {
  'campaigns.chk_spent_precise': {
    code: 'CAMPAIGN.BUDGET_EXCEEDED',
    message: 'the budget may not go below what the campaign has spent (to the 7th decimal)',
    paths: ['/budget'],
    kind: 'conflict',
  },
};
