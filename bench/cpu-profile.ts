/**
 * `npm run bench:profile -- <file.cpuprofile> [pattern]`: where a V8 CPU profile spent
 * its time, for hot-path work. `BENCH_CPU_PROF=<dir> npm run bench:api` writes the
 * service's profile into <dir>.
 *
 * Prints the share of samples per package (self time), the top functions (self time),
 * and, with a pattern, the inclusive time of the functions whose
 * "name file:line" matches it (e.g. `src/|fastify|pino`).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, pattern] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: npm run bench:profile -- <file.cpuprofile> [pattern]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

const selfTime = new Map<number, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
  total += dt;
});

/** `node_modules/<package>`, `src/<path>`, a `node:` module, or V8's own entries. */
function placeOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (url.includes('node_modules/')) {
    const rest = url.split('node_modules/').pop()!.split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.includes('/src/')) return `src/${url.split('/src/').pop()}`;
  if (url) return url;
  return functionName.startsWith('(') ? functionName : `(${functionName || 'native'})`;
}
const labelOf = (node: ProfileNode) => `${node.callFrame.functionName || '(anonymous)'} ${placeOf(node)}:${node.callFrame.lineNumber + 1}`;

function top(title: string, times: Map<string, number>, count: number): void {
  console.log(`\n${title}`);
  for (const [name, time] of [...times].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    console.log(`${((time / total) * 100).toFixed(1).padStart(6)}%  ${name}`);
  }
}

const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, time] of selfTime) {
  const node = nodes.get(id)!;
  byPlace.set(placeOf(node), (byPlace.get(placeOf(node)) ?? 0) + time);
  byFunction.set(labelOf(node), (byFunction.get(labelOf(node)) ?? 0) + time);
}
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
top('self time by place', byPlace, 25);
top('self time by function', byFunction, 30);

if (pattern) {
  const matcher = new RegExp(pattern);
  const inclusive = new Map<string, number>();
  for (const [id, time] of selfTime) {
    // Each sample counts once per distinct function on its stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const label = labelOf(nodes.get(at)!);
      if (seen.has(label) || !matcher.test(label)) continue;
      seen.add(label);
      inclusive.set(label, (inclusive.get(label) ?? 0) + time);
    }
  }
  top(`inclusive time of functions matching /${pattern}/`, inclusive, 40);
}
