/** What a placement file holds, its expiry and its WebVTT form (pure rules). */
import { describe, expect, it } from 'vitest';
import {
  fileExpiry, filePlacements, placementFileDocument, placementFileVtt, vttTimestamp, type CampaignState, type FileSnapshot, type PlacementState,
} from '../../../src/features/placement-files/placement-file-rules.js';

const TODAY = '2026-12-03';
const campaign = (over: Partial<CampaignState> = {}): CampaignState => ({ id: 'c1', status: 'active', startDate: '2026-01-01', endDate: '2026-12-31', budget: 10, spent: 1, deleted: false, ...over });
const placement = (id: string, over: Partial<PlacementState> = {}, product: Partial<PlacementState['product']> = {}): PlacementState => ({
  id, status: 'active', startTime: 1, endTime: 2, position: null,
  product: { id: `p-${id}`, name: 'Tea --> "x"', category: null, assets: [], deleted: false, advertiserDeleted: false, advertiserStatus: 'active', campaigns: [campaign()], ...product },
  ...over,
});
const snapshot = (placements: PlacementState[]): FileSnapshot => ({ videoId: 'v', duration: 60, placements, today: TODAY });

describe('placement file rules', () => {
  it('holds only what may be shown now, in start order', () => {
    const shown = filePlacements(snapshot([
      placement('b', { startTime: 5, endTime: 6 }),
      placement('a'),
      placement('draft', { status: 'draft' }),
      placement('deleted-product', {}, { deleted: true }),
      placement('suspended', {}, { advertiserStatus: 'suspended' }),
      placement('paused', {}, { campaigns: [campaign({ status: 'paused' })] }),
      placement('ended', {}, { campaigns: [campaign({ endDate: '2026-12-02' })] }),
      placement('spent', {}, { campaigns: [campaign({ spent: 10 })] }),
      placement('later', {}, { campaigns: [campaign({ startDate: '2026-12-04' })] }),
    ]));
    expect(shown.map((p) => p.id)).toEqual(['a', 'b']);
    expect(shown[0]!.campaign_id).toBe('c1');
  });

  it('expires at the first midnight a campaign date changes what is shown', () => {
    expect(fileExpiry(snapshot([placement('a')]))).toBe('2027-01-01T00:00:00.000Z');
    expect(fileExpiry(snapshot([placement('a'), placement('later', {}, { campaigns: [campaign({ id: 'c2', startDate: '2026-12-10' })] })]))).toBe('2026-12-10T00:00:00.000Z');
    expect(fileExpiry(snapshot([placement('paused', {}, { campaigns: [campaign({ status: 'paused' })] })]))).toBeUndefined();
  });

  it('writes one WebVTT cue per placement with a one-line JSON payload that never contains -->', () => {
    const document = placementFileDocument(snapshot([placement('a', { startTime: 3723.5, endTime: 3725 })]), filePlacements(snapshot([placement('a', { startTime: 3723.5, endTime: 3725 })])), 3, new Date('2026-12-03T10:00:00Z'));
    const vtt = placementFileVtt(document);
    const lines = vtt.split('\n');
    expect(lines[0]).toBe('WEBVTT - Nedlia placements for video v, version 3');
    expect(lines.slice(2, 5)[0]).toBe('a');
    expect(lines[3]).toBe('01:02:03.500 --> 01:02:05.000');
    expect(lines[4]).not.toContain('-->');
    expect(JSON.parse(lines[4]!).product.name).toBe('Tea --> "x"');
    expect(vttTimestamp(0.001)).toBe('00:00:00.001');
  });
});
