/**
 * Campaign rules: its dates, and what an active campaign needs. Pure: the use cases
 * (campaign-use-cases.ts) gather the facts and turn what these answer into
 * problems.
 */
import type { FieldError } from '../../../platform/errors.js';

export type CampaignStatus = 'draft' | 'active' | 'paused' | 'completed';

/** `end_date` must come after `start_date` (both `YYYY-MM-DD`). */
export function campaignDateErrors(startDate: string, endDate: string): FieldError[] {
  return endDate > startDate ? [] : [{ path: '/end_date', message: 'must be after start_date' }];
}

/** An active campaign promotes at least one product. */
export function campaignProductErrors(status: CampaignStatus, productIds: readonly string[]): FieldError[] {
  return status === 'active' && productIds.length === 0
    ? [{ path: '/product_ids', message: 'must name at least one product when the campaign is active' }]
    : [];
}

/** The products sent that are not the campaign's advertiser's own (`own`), by their index. */
export function foreignProductErrors(sent: readonly string[], own: ReadonlySet<string>): FieldError[] {
  return sent.flatMap((id, index) => (own.has(id) ? [] : [{ path: `/product_ids/${index}`, message: "is not a product of the campaign's advertiser" }]));
}
