import { describe, expect, it } from 'vitest';
import { campaignDateErrors, campaignProductErrors, foreignProductErrors } from '../../src/features/catalog/campaigns/campaign-rules.js';

describe('campaign rules', () => {
  describe('dates', () => {
    it('given an end after the start, when checked, then nothing is wrong', () => {
      expect(campaignDateErrors('2026-06-01', '2026-06-02')).toEqual([]);
    });
    it.each([
      ['the same day', '2026-06-01', '2026-06-01'],
      ['an end before the start', '2026-06-02', '2026-06-01'],
      ['an end a year earlier', '2027-01-01', '2026-12-31'],
    ])('given %s, when checked, then end_date is named', (_, start, end) => {
      expect(campaignDateErrors(start, end)).toEqual([{ path: '/end_date', message: 'must be after start_date' }]);
    });
  });

  describe('products of an active campaign', () => {
    it('given an active campaign without products, when checked, then product_ids is named', () => {
      expect(campaignProductErrors('active', [])).toEqual([
        { path: '/product_ids', message: 'must name at least one product when the campaign is active' },
      ]);
    });
    it.each(['draft', 'paused', 'completed'] as const)('given a %s campaign without products, when checked, then nothing is wrong', (status) => {
      expect(campaignProductErrors(status, [])).toEqual([]);
    });
    it('given an active campaign with a product, when checked, then nothing is wrong', () => {
      expect(campaignProductErrors('active', ['p1'])).toEqual([]);
    });
  });

  describe("the advertiser's own products", () => {
    it('given products of another advertiser among those sent, when checked, then each is named by its index', () => {
      expect(foreignProductErrors(['own-1', 'theirs', 'own-2', 'also-theirs'], new Set(['own-1', 'own-2']))).toEqual([
        { path: '/product_ids/1', message: "is not a product of the campaign's advertiser" },
        { path: '/product_ids/3', message: "is not a product of the campaign's advertiser" },
      ]);
    });
    it('given only own products, when checked, then nothing is wrong', () => {
      expect(foreignProductErrors(['a', 'b'], new Set(['a', 'b', 'c']))).toEqual([]);
    });
  });
});
