import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/platform/errors.js';
import { assertValidPlacement, positionErrors, timeRangeErrors } from '../../src/features/catalog/placements/placement-rules.js';

describe('placement rules', () => {
  describe('time range', () => {
    it('given a range inside the video, when checked, then nothing is wrong', () => {
      expect(timeRangeErrors(0, 5.5, 10)).toEqual([]);
    });
    it('given a negative start, when checked, then start_time is named', () => {
      expect(timeRangeErrors(-1, 5)).toEqual([{ path: '/start_time', message: 'must be at least 0' }]);
    });
    it.each([
      ['an empty range', 3, 3],
      ['an end before the start', 4, 3],
    ])('given %s, when checked, then end_time is named', (_, start, end) => {
      expect(timeRangeErrors(start, end)).toEqual([{ path: '/end_time', message: 'must be greater than start_time' }]);
    });
    it("given an end past the video's duration, when checked, then the duration is in the message", () => {
      expect(timeRangeErrors(5, 12.5, 12)).toEqual([{ path: '/end_time', message: "must not pass the video's duration (12 s)" }]);
    });
    it('given a video of unknown duration, when checked, then any end after the start is fine', () => {
      expect(timeRangeErrors(5, 100_000)).toEqual([]);
    });
  });

  describe('position on screen', () => {
    it('given a box inside the frame, when checked, then nothing is wrong', () => {
      expect(positionErrors({ x: 0.5, y: 0.5, width: 0.5, height: 0.5 })).toEqual([]);
    });
    it('given a box past the right and bottom edges, when checked, then both are named', () => {
      expect(positionErrors({ x: 0.8, y: 0.9, width: 0.3, height: 0.2 })).toEqual([
        { path: '/position/width', message: 'x + width must not exceed 1' },
        { path: '/position/height', message: 'y + height must not exceed 1' },
      ]);
    });
  });

  it('given a placement breaking several rules, when asserted, then one invalid error lists them all', () => {
    let error: unknown;
    try {
      assertValidPlacement({ startTime: -1, endTime: -2, position: { x: 0.9, y: 0, width: 0.2, height: 0.1 } }, 10);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('PLACEMENT.INVALID');
    expect((error as DomainError).errors.map((e) => e.path)).toEqual(['/start_time', '/end_time', '/position/width']);
  });
});
