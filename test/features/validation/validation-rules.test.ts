/** The validation rules, as given / when / then: each rule with a placement that breaks it and one that does not. */
import { describe, expect, it } from 'vitest';
import { validatePlacements, type VideoSnapshot } from '../../../src/features/validation/index.js';
import type { CampaignFacts, PlacementFacts, ProductFacts } from '../../../src/features/validation/validation-rules.js';

const TODAY = '2026-12-03';
const serving: CampaignFacts = { id: 'c1', name: 'Winter', status: 'active', startDate: '2026-11-01', endDate: '2027-01-31', budget: 100, spent: 10, deleted: false };
const product = (id: string, over: Partial<ProductFacts> = {}): ProductFacts => ({
  id, name: `Product ${id}`, category: `cat-${id}`, advertiserId: `adv-${id}`, deleted: false, advertiserDeleted: false, advertiserStatus: 'active', campaigns: [serving], ...over,
});
let n = 0;
const placement = (productId: string, startTime: number, endTime: number, over: Partial<PlacementFacts> = {}): PlacementFacts => ({
  id: `p${++n}`, productId, startTime, endTime, position: { x: 0.1, y: 0.1, width: 0.2, height: 0.2 }, ...over,
});

function check(placements: PlacementFacts[], products: ProductFacts[], options = { min_duration: 1, max_concurrent_products: 3 }) {
  const snapshot: VideoSnapshot = { videoId: 'v', duration: 60, placements, products: new Map(products.map((p) => [p.id, p])), today: TODAY };
  return validatePlacements(snapshot, options);
}
const codes = (result: ReturnType<typeof check>) => result.issues.map((i) => i.code).sort();

describe('validation rules', () => {
  it('a clean placement has no issues', () => {
    const result = check([placement('a', 1, 5)], [product('a')]);
    expect(result.issues).toEqual([]);
    expect(result.summary).toEqual({ total_placements: 1, valid_placements: 1, issues_count: 0, is_valid: true });
  });

  it('outside_duration: past the end of the video', () => {
    expect(codes(check([placement('a', 55, 61)], [product('a')]))).toEqual(['outside_duration']);
    expect(codes(check([placement('a', 55, 60)], [product('a')]))).toEqual([]);
  });

  it('timing_conflict: overlapping placements of one product; touching ones are fine', () => {
    const [x, y] = [placement('a', 1, 10), placement('a', 9, 12)];
    const result = check([x, y], [product('a')]);
    expect(codes(result)).toEqual(['timing_conflict']);
    expect(result.issues[0]).toMatchObject({ severity: 'error', placement_ids: [x.id, y.id], time_range: { start_time: 9, end_time: 10 } });
    expect(result.summary).toMatchObject({ valid_placements: 0, is_valid: false });
    expect(codes(check([placement('a', 1, 10), placement('a', 10, 12)], [product('a')]))).toEqual([]);
  });

  it('competing_products: same category, different advertisers, at once', () => {
    const products = [product('a', { category: 'drinks' }), product('b', { category: 'drinks' }), product('c', { category: 'drinks', advertiserId: 'adv-a' })];
    const result = check([placement('a', 1, 10), placement('b', 5, 12)], products);
    expect(codes(result)).toEqual(['competing_products']);
    expect(result.issues[0]!.severity).toBe('warning');
    expect(codes(check([placement('a', 1, 10), placement('b', 10, 12)], products))).toEqual([]);
    // The same advertiser's products of one category do not compete.
    expect(codes(check([placement('a', 1, 10), placement('c', 5, 12)], products))).toEqual([]);
  });

  it('missing_product: the product or its advertiser deleted, or the advertiser suspended', () => {
    expect(codes(check([placement('a', 1, 5)], [product('a', { deleted: true })]))).toEqual(['missing_product']);
    expect(codes(check([placement('a', 1, 5)], []))).toEqual(['missing_product']);
    expect(codes(check([placement('a', 1, 5)], [product('a', { advertiserDeleted: true })]))).toEqual(['missing_product']);
    expect(codes(check([placement('a', 1, 5)], [product('a', { advertiserStatus: 'suspended' })]))).toEqual(['missing_product']);
  });

  it('expired_campaign: deleted, paused, completed, past its end date or out of budget', () => {
    for (const stopped of [
      { deleted: true }, { status: 'paused' as const }, { status: 'completed' as const }, { endDate: '2026-12-02' }, { spent: 100 },
    ]) {
      const result = check([placement('a', 1, 5)], [product('a', { campaigns: [{ ...serving, ...stopped }] })]);
      expect(codes(result), JSON.stringify(stopped)).toEqual(['expired_campaign']);
    }
    // One serving campaign is enough.
    expect(codes(check([placement('a', 1, 5)], [product('a', { campaigns: [{ ...serving, status: 'paused' }, serving] })]))).toEqual([]);
  });

  it('no_active_campaign: no campaign, only drafts or not started yet', () => {
    expect(codes(check([placement('a', 1, 5)], [product('a', { campaigns: [] })]))).toEqual(['no_active_campaign']);
    expect(codes(check([placement('a', 1, 5)], [product('a', { campaigns: [{ ...serving, status: 'draft' }] })]))).toEqual(['no_active_campaign']);
    expect(codes(check([placement('a', 1, 5)], [product('a', { campaigns: [{ ...serving, startDate: '2026-12-04' }] })]))).toEqual(['no_active_campaign']);
  });

  it('position_out_of_frame: x + width or y + height past 1', () => {
    expect(codes(check([placement('a', 1, 5, { position: { x: 0.9, y: 0, width: 0.2, height: 0.1 } })], [product('a')]))).toEqual(['position_out_of_frame']);
    expect(codes(check([placement('a', 1, 5, { position: { x: 0.8, y: 0.8, width: 0.2, height: 0.2 } })], [product('a')]))).toEqual([]);
    expect(codes(check([placement('a', 1, 5, { position: null })], [product('a')]))).toEqual([]);
  });

  it('too_short: below the configured minimum', () => {
    expect(codes(check([placement('a', 1, 1.5)], [product('a')]))).toEqual(['too_short']);
    expect(codes(check([placement('a', 1, 1.5)], [product('a')], { min_duration: 0.5, max_concurrent_products: 3 }))).toEqual([]);
  });

  it('too_many_products: more than N products on screen at once, one issue per crowded stretch', () => {
    const products = ['a', 'b', 'c', 'd'].map((id) => product(id));
    const crowded = [placement('a', 0, 10), placement('b', 1, 10), placement('c', 2, 10), placement('d', 3, 5)];
    const result = check(crowded, products);
    expect(codes(result)).toEqual(['too_many_products']);
    expect(result.issues[0]).toMatchObject({ severity: 'warning', time_range: { start_time: 3, end_time: 5 } });
    expect(result.issues[0]!.placement_ids).toHaveLength(4);
    expect(codes(check(crowded, products, { min_duration: 1, max_concurrent_products: 4 }))).toEqual([]);
  });

  it('scales to many placements in one sweep (no pairwise comparison)', () => {
    const products = Array.from({ length: 50 }, (_, i) => product(`x${i}`));
    const many = Array.from({ length: 5000 }, (_, i) => placement(`x${i % 50}`, i * 0.01, i * 0.01 + 1));
    const snapshot: VideoSnapshot = { videoId: 'v', duration: 100, placements: many, products: new Map(products.map((p) => [p.id, p])), today: TODAY };
    const result = validatePlacements(snapshot, { min_duration: 0.5, max_concurrent_products: 200 });
    // Each product's placements start every 0.5 s and last 1 s: every one after the first overlaps its predecessor.
    expect(result.issues.filter((i) => i.code === 'timing_conflict')).toHaveLength(5000 - 50);
  });
});
