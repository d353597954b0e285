/**
 * The validation rules of a video's placements: pure functions over a snapshot of the
 * video, its placements, their products, advertisers and campaigns. Each issue has a
 * stable code, a severity and a message a creator can act on.
 *
 * Per placement: outside the video's duration, position outside the frame, shorter
 * than the minimum, product (or its advertiser) deleted or inactive, campaigns
 * expired / paused / over budget, no active campaign.
 * Across placements, in ONE sweep over the sorted start and end points
 * (O(n log n), never pairwise): overlapping placements of one product, competing
 * products (same category, different advertisers) on screen at once, and more than
 * N products on screen at once.
 */
import {
  DEFAULT_VALIDATION_OPTIONS, type Issue, type IssueCode, type Severity, type Summary, type TimeRange, type ValidationOptions,
} from './validation-model.js';

export interface PlacementFacts {
  id: string;
  productId: string;
  startTime: number;
  endTime: number;
  position: { x: number; y: number; width: number; height: number } | null;
}

export interface CampaignFacts {
  id: string;
  name: string;
  status: 'draft' | 'active' | 'paused' | 'completed';
  startDate: string;
  endDate: string;
  budget: number;
  spent: number;
  deleted: boolean;
}

export interface ProductFacts {
  id: string;
  name: string;
  category: string | null;
  advertiserId: string;
  /** The product is soft-deleted (or missing). */
  deleted: boolean;
  /** Its advertiser is soft-deleted. */
  advertiserDeleted: boolean;
  advertiserStatus: 'active' | 'suspended';
  campaigns: readonly CampaignFacts[];
}

export interface VideoSnapshot {
  videoId: string;
  duration: number;
  placements: readonly PlacementFacts[];
  /** By product id. */
  products: ReadonlyMap<string, ProductFacts>;
  /** The day the run is for, `YYYY-MM-DD` (UTC). */
  today: string;
}

export interface ValidationResult {
  issues: Issue[];
  summary: Summary;
}

export const SEVERITY: Record<IssueCode, Severity> = {
  outside_duration: 'error',
  timing_conflict: 'error',
  competing_products: 'warning',
  missing_product: 'error',
  expired_campaign: 'error',
  no_active_campaign: 'warning',
  position_out_of_frame: 'error',
  too_short: 'warning',
  too_many_products: 'warning',
};

const fmt = (seconds: number): string => `${Number(seconds.toFixed(3))}s`;
const range = (start: number, end: number): TimeRange => ({ start_time: start, end_time: end });
const issue = (code: IssueCode, placementIds: string[], timeRange: TimeRange, message: string): Issue => ({
  code, severity: SEVERITY[code], placement_ids: placementIds, time_range: timeRange, message,
});

/** A campaign serves today: active, not deleted, today within its dates, budget left. */
export function campaignServes(c: CampaignFacts, today: string): boolean {
  return !c.deleted && c.status === 'active' && c.startDate <= today && today <= c.endDate && c.spent < c.budget;
}

/** Why a campaign does not serve today, in words; undefined when it serves. */
export function whyCampaignStopped(c: CampaignFacts, today: string): string | undefined {
  if (c.deleted) return `campaign "${c.name}" was deleted`;
  if (c.status === 'paused') return `campaign "${c.name}" is paused`;
  if (c.status === 'completed') return `campaign "${c.name}" is completed`;
  if (c.status === 'draft') return undefined; // not started: counts as "no active campaign"
  if (today < c.startDate) return undefined;
  if (today > c.endDate) return `campaign "${c.name}" ended on ${c.endDate}`;
  if (c.spent >= c.budget) return `campaign "${c.name}" spent its whole budget`;
  return undefined;
}

/** A product may be shown now: it, its advertiser and at least one of its campaigns are live. */
export function productServes(p: ProductFacts | undefined, today: string): boolean {
  return p !== undefined && !p.deleted && !p.advertiserDeleted && p.advertiserStatus === 'active' && p.campaigns.some((c) => campaignServes(c, today));
}

function placementIssues(p: PlacementFacts, snapshot: VideoSnapshot, options: ValidationOptions, out: Issue[]): void {
  const r = range(p.startTime, p.endTime);
  if (p.endTime > snapshot.duration || p.startTime >= snapshot.duration) {
    out.push(issue('outside_duration', [p.id], r, `The placement runs ${fmt(p.startTime)}–${fmt(p.endTime)} but the video is only ${fmt(snapshot.duration)} long: move it inside the video.`));
  }
  const pos = p.position;
  if (pos && (pos.x < 0 || pos.y < 0 || pos.width <= 0 || pos.height <= 0 || pos.x + pos.width > 1 + 1e-9 || pos.y + pos.height > 1 + 1e-9)) {
    out.push(issue('position_out_of_frame', [p.id], r, 'The placement reaches outside the frame: keep x + width and y + height at most 1, with a width and height above 0.'));
  }
  if (p.endTime - p.startTime < options.min_duration) {
    out.push(issue('too_short', [p.id], r, `The placement is on screen for ${fmt(p.endTime - p.startTime)}, less than the minimum of ${fmt(options.min_duration)}: viewers may miss it.`));
  }
  const product = snapshot.products.get(p.productId);
  if (!product || product.deleted) {
    out.push(issue('missing_product', [p.id], r, 'The product of this placement was deleted: choose another product or remove the placement.'));
    return;
  }
  if (product.advertiserDeleted || product.advertiserStatus !== 'active') {
    const why = product.advertiserDeleted ? 'was deleted' : 'is suspended';
    out.push(issue('missing_product', [p.id], r, `The advertiser of "${product.name}" ${why}, so it is not shown: choose another product or remove the placement.`));
    return;
  }
  if (product.campaigns.some((c) => campaignServes(c, snapshot.today))) return;
  const stopped = product.campaigns.map((c) => whyCampaignStopped(c, snapshot.today)).filter((w): w is string => w !== undefined);
  if (stopped.length > 0) {
    out.push(issue('expired_campaign', [p.id], r, `"${product.name}" is not shown any more: ${stopped.join('; ')}.`));
  } else {
    out.push(issue('no_active_campaign', [p.id], r, `No active campaign promotes "${product.name}" today, so it is not shown until one does.`));
  }
}

/**
 * The start and end points, each packed in one number so that a plain numeric sort
 * orders them: (milliseconds × 2 + kind) × 2^21 + index, where kind 0 = end and
 * 1 = start (at the same instant ends come first: touching ranges do not overlap).
 * Exact for up to 2^21 placements and ~590 hours of video.
 */
const INDEX_BITS = 2 ** 21;

/** Overlaps in one pass over the sorted start and end points. */
function sweepIssues(snapshot: VideoSnapshot, options: ValidationOptions, out: Issue[]): void {
  const placements = snapshot.placements;
  if (placements.length >= INDEX_BITS) throw new RangeError(`at most ${INDEX_BITS - 1} placements per video`);
  const points = new Float64Array(placements.length * 2);
  placements.forEach((p, index) => {
    points[index * 2] = (Math.round(p.startTime * 1000) * 2 + 1) * INDEX_BITS + index;
    points[index * 2 + 1] = Math.round(p.endTime * 1000) * 2 * INDEX_BITS + index;
  });
  points.sort();

  /** Active placements per product (insertion-ordered sets). */
  const byProduct = new Map<string, Set<number>>();
  /** Per category, active placements per advertiser. */
  const byCategory = new Map<string, Map<string, Set<number>>>();
  let crowd: { start: number; ids: string[] } | undefined;
  const max = options.max_concurrent_products;

  const any = (set: Set<number>): number => set.values().next().value as number;
  for (const packed of points) {
    const index = packed % INDEX_BITS;
    const isStart = Math.floor(packed / INDEX_BITS) % 2 === 1;
    const p = placements[index]!;
    const product = snapshot.products.get(p.productId);
    const category = product && !product.deleted ? product.category : null;
    if (isStart) {
      const same = byProduct.get(p.productId);
      if (same && same.size > 0) {
        const other = placements[any(same)]!;
        out.push(issue('timing_conflict', [other.id, p.id], range(p.startTime, Math.min(p.endTime, other.endTime)),
          `Two placements of the same product overlap from ${fmt(p.startTime)}: merge them or move one.`));
      }
      if (same) same.add(index);
      else byProduct.set(p.productId, new Set([index]));
      if (category) {
        let advertisers = byCategory.get(category);
        if (!advertisers) byCategory.set(category, (advertisers = new Map()));
        for (const [advertiserId, active] of advertisers) {
          if (advertiserId !== product!.advertiserId && active.size > 0) {
            const other = placements[any(active)]!;
            out.push(issue('competing_products', [other.id, p.id], range(p.startTime, Math.min(p.endTime, other.endTime)),
              `Competing ${category} products of different advertisers are on screen together from ${fmt(p.startTime)}: move one of them.`));
            break;
          }
        }
        const mine = advertisers.get(product!.advertiserId);
        if (mine) mine.add(index);
        else advertisers.set(product!.advertiserId, new Set([index]));
      }
      if (!crowd && byProduct.size > max) {
        crowd = { start: p.startTime, ids: [...byProduct.values()].map((set) => placements[any(set)]!.id) };
      }
    } else {
      const same = byProduct.get(p.productId)!;
      same.delete(index);
      if (same.size === 0) byProduct.delete(p.productId);
      if (category) byCategory.get(category)?.get(product!.advertiserId)?.delete(index);
      if (crowd && byProduct.size <= max) {
        out.push(issue('too_many_products', crowd.ids, range(crowd.start, p.endTime),
          `More than ${max} products are on screen at once from ${fmt(crowd.start)} to ${fmt(p.endTime)}: spread them out.`));
        crowd = undefined;
      }
    }
  }
}

/** Every issue of the snapshot, and the summary of the run. */
export function validatePlacements(snapshot: VideoSnapshot, options: ValidationOptions = DEFAULT_VALIDATION_OPTIONS): ValidationResult {
  const issues: Issue[] = [];
  for (const p of snapshot.placements) placementIssues(p, snapshot, options, issues);
  sweepIssues(snapshot, options, issues);
  const invalid = new Set<string>();
  for (const i of issues) if (i.severity === 'error') for (const id of i.placement_ids) invalid.add(id);
  const total = snapshot.placements.length;
  return {
    issues,
    summary: { total_placements: total, valid_placements: total - invalid.size, issues_count: issues.length, is_valid: !issues.some((i) => i.severity === 'error') },
  };
}
