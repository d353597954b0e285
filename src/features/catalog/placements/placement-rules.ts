/**
 * Placement: a product shown in a video over a time range, at a position on screen.
 */
import { DomainError, type FieldError } from '../../../platform/errors.js';

export type PlacementStatus = 'draft' | 'active' | 'archived';

export interface Position {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Placement {
  id: string;
  videoId: string;
  productId: string;
  startTime: number;
  endTime: number;
  description: string | null;
  position: Position | null;
  status: PlacementStatus;
  fileUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
  createdBy: string | null;
  version: number;
}

/** Checks a time range against the rules (and the video's duration, when known). */
export function timeRangeErrors(startTime: number, endTime: number, duration?: number): FieldError[] {
  const errors: FieldError[] = [];
  if (!(startTime >= 0)) errors.push({ path: '/start_time', message: 'must be at least 0' });
  if (!(endTime > startTime)) errors.push({ path: '/end_time', message: 'must be greater than start_time' });
  if (duration !== undefined && endTime > duration) {
    errors.push({ path: '/end_time', message: `must not pass the video's duration (${duration} s)` });
  }
  return errors;
}

export function positionErrors(position: Position): FieldError[] {
  const errors: FieldError[] = [];
  if (position.x + position.width > 1) errors.push({ path: '/position/width', message: 'x + width must not exceed 1' });
  if (position.y + position.height > 1) errors.push({ path: '/position/height', message: 'y + height must not exceed 1' });
  return errors;
}

export function assertValidPlacement(p: { startTime: number; endTime: number; position?: Position | null }, duration?: number): void {
  const errors = [...timeRangeErrors(p.startTime, p.endTime, duration), ...(p.position ? positionErrors(p.position) : [])];
  if (errors.length > 0) {
    throw new DomainError('invalid', 'PLACEMENT.INVALID', 'the placement breaks a rule', errors);
  }
}
