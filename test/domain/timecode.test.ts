import { describe, expect, it } from 'vitest';
import { TimecodeError, timecodeToSeconds } from '../../src/features/catalog/placements/timecode-rules.js';

describe('timecodeToSeconds', () => {
  it('converts non-drop-frame timecodes at integer rates', () => {
    expect(timecodeToSeconds('00:00:00:00', 25)).toBe(0);
    expect(timecodeToSeconds('00:00:01:00', 25)).toBe(1);
    expect(timecodeToSeconds('00:01:02:12', 25)).toBe(62.48);
    expect(timecodeToSeconds('01:00:00:00', 24)).toBe(3600);
    expect(timecodeToSeconds('00:00:10:15', 30)).toBe(10.5);
  });

  it('runs non-drop-frame at 29.97 slower than the wall clock', () => {
    // 30 labelled frames per second played at 29.97: one hour of labels is 3603.6 s.
    expect(timecodeToSeconds('01:00:00:00', 29.97)).toBe(3603.6);
  });

  it('converts drop-frame timecodes so that labels match the wall clock', () => {
    expect(timecodeToSeconds('00:00:00;00', 29.97)).toBe(0);
    // 00:01:00;02 is frame 1800 (frames 0 and 1 of minute 1 are skipped).
    expect(timecodeToSeconds('00:01:00;02', 29.97)).toBe(Math.round((1800 * 1001) / 30) / 1000);
    // Minute 10 drops nothing: frame 17982 = 10 minutes of real time, to the frame.
    expect(timecodeToSeconds('00:10:00;00', 29.97)).toBe(Math.round((17982 * 1001) / 30) / 1000);
    expect(timecodeToSeconds('00:10:00;00', 29.97)).toBeCloseTo(600, 0);
    expect(timecodeToSeconds('01:00:00;00', 29.97)).toBeCloseTo(3600, 1);
    expect(timecodeToSeconds('01:00:00;00', 59.94)).toBeCloseTo(3600, 1);
  });

  it('is monotonic across a dropped minute boundary', () => {
    const before = timecodeToSeconds('00:00:59;29', 29.97);
    const after = timecodeToSeconds('00:01:00;02', 29.97);
    expect(after).toBeGreaterThan(before);
    expect(after - before).toBeCloseTo(1001 / 30000, 3);
  });

  it('rejects what is not a timecode', () => {
    for (const [tc, fps] of [
      ['1:00:00:00', 25],
      ['00:60:00:00', 25],
      ['00:00:60:00', 25],
      ['00:00:00:25', 25],
      ['00:01:00;00', 29.97], // a dropped frame number
      ['00:00:00;00', 25], // drop-frame only exists at NTSC rates
      ['00:00:00:00', 0],
      ['00:00:00:00', Number.NaN],
      ['garbage', 25],
    ] as const) {
      expect(() => timecodeToSeconds(tc, fps), `${tc} @ ${fps}`).toThrow(TimecodeError);
    }
  });
});
