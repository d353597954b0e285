/**
 * `npm run bench:validate`: the validation rules over 10,000 placements of one video
 * (200 products in 40 categories of 100 advertisers, campaigns of every state, many
 * overlaps), timed in-process: the pure rules only, no database. Goal: ≤ 100 ms.
 * `BENCH_COUNT` changes the number of placements, `BENCH_RUNS` the timed runs.
 */
import { validatePlacements, type VideoSnapshot } from '../src/features/validation/index.js';
import type { CampaignFacts, PlacementFacts, ProductFacts } from '../src/features/validation/validation-rules.js';

const COUNT = Number(process.env.BENCH_COUNT ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const DURATION = 3600;

let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

const statuses: CampaignFacts['status'][] = ['active', 'active', 'active', 'paused', 'completed', 'draft'];
const products = new Map<string, ProductFacts>();
for (let i = 0; i < 200; i++) {
  const id = `product-${i}`;
  products.set(id, {
    id, name: `Product ${i}`, category: `category-${i % 40}`, advertiserId: `advertiser-${i % 100}`,
    deleted: i % 97 === 0, advertiserDeleted: false, advertiserStatus: i % 89 === 0 ? 'suspended' : 'active',
    campaigns: [{ id: `campaign-${i}`, name: `Campaign ${i}`, status: statuses[i % statuses.length]!, startDate: '2026-01-01', endDate: i % 7 === 0 ? '2026-06-30' : '2027-12-31', budget: 1000, spent: i % 11 === 0 ? 1000 : 10, deleted: false }],
  });
}
const placements: PlacementFacts[] = Array.from({ length: COUNT }, (_, i) => {
  const start = random() * (DURATION - 20);
  return {
    id: `placement-${i}`, productId: `product-${Math.floor(random() * 200)}`, startTime: Number(start.toFixed(3)),
    endTime: Number((start + 0.3 + random() * 15).toFixed(3)), position: { x: random() * 0.9, y: random() * 0.9, width: 0.15, height: 0.15 },
  };
});
const snapshot: VideoSnapshot = { videoId: 'bench', duration: DURATION, placements, products, today: '2026-12-03' };

for (let i = 0; i < 3; i++) validatePlacements(snapshot); // warm up
const times: number[] = [];
let issues = 0;
for (let i = 0; i < RUNS; i++) {
  const started = performance.now();
  issues = validatePlacements(snapshot).issues.length;
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const at = (q: number) => Number(times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1));
const first = (() => {
  const started = performance.now();
  validatePlacements({ ...snapshot, placements: [...placements] });
  return Number((performance.now() - started).toFixed(1));
})();
console.table([{ placements: COUNT, runs: RUNS, issues, 'p50 ms': at(0.5), 'p99 ms': at(0.99), 'max ms': Number(times.at(-1)!.toFixed(1)), 'goal ms': 100 }]);
console.log(`one more run on a fresh copy of the list: ${first} ms`);
