/**
 * SMPTE timecodes as the editor plugin sends them (`HH:MM:SS:FF`, or `HH:MM:SS;FF`
 * for drop-frame) converted to seconds. Drop-frame skips frame numbers 0 and 1
 * (0–3 at 59.94) at the start of every minute except each tenth, so that the
 * labels keep up with the wall clock at 29.97/59.94 frames per second.
 */

export class TimecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimecodeError';
  }
}

const TIMECODE = /^(\d{2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})$/;

/** True when `fps` is an NTSC rate (29.97, 59.94, 23.976 …), i.e. n × 1000/1001. */
function ntscBase(fps: number): number | undefined {
  const base = Math.round(fps);
  return Math.abs(fps - (base * 1000) / 1001) < 0.005 ? base : undefined;
}

/** Seconds (rounded to milliseconds) at the start of frame `timecode` at `fps`. */
export function timecodeToSeconds(timecode: string, fps: number): number {
  if (!Number.isFinite(fps) || fps <= 0 || fps > 240) throw new TimecodeError('fps must be a number above 0 and at most 240');
  const match = TIMECODE.exec(timecode);
  if (!match) throw new TimecodeError('must look like HH:MM:SS:FF (or HH:MM:SS;FF for drop-frame)');
  const [hours, minutes, seconds, frames] = [match[1], match[2], match[3], match[5]].map(Number) as [number, number, number, number];
  const dropFrame = match[4] === ';' || match[4] === ',';
  const timebase = Math.round(fps);
  if (minutes > 59 || seconds > 59) throw new TimecodeError('minutes and seconds must be below 60');
  if (frames >= timebase) throw new TimecodeError(`frames must be below ${timebase} at ${fps} fps`);

  if (!dropFrame) {
    const frameNumber = ((hours * 60 + minutes) * 60 + seconds) * timebase + frames;
    // 29.97 stands for exactly 30000/1001: use the exact rate, not the rounded one.
    const ntsc = ntscBase(fps);
    return roundMs(ntsc === undefined ? frameNumber / fps : (frameNumber * 1001) / (ntsc * 1000));
  }
  const base = ntscBase(fps);
  if (base === undefined || base % 30 !== 0) throw new TimecodeError('drop-frame timecode needs 29.97 or 59.94 fps');
  const dropped = (base / 30) * 2;
  const totalMinutes = hours * 60 + minutes;
  if (seconds === 0 && frames < dropped && totalMinutes % 10 !== 0) {
    throw new TimecodeError(`frame ${frames} does not exist at the start of minute ${minutes} in drop-frame`);
  }
  const frameNumber =
    ((hours * 60 + minutes) * 60 + seconds) * base + frames - dropped * (totalMinutes - Math.floor(totalMinutes / 10));
  return roundMs((frameNumber * 1001) / (base * 1000));
}

const roundMs = (seconds: number): number => Math.round(seconds * 1000) / 1000;
