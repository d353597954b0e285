/**
 * The layer rules of .dependency-cruiser.cjs (run by `npm run lint`) catch what they
 * promise: each is broken once on purpose in a small tree of the same layout, and the
 * same tree without the violations passes.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const depcruise = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const config = path.join(root, '.dependency-cruiser.cjs');

/** A tree in the project's layout: a platform, two features, the entry. */
const CLEAN: Record<string, string> = {
  'src/platform/errors.ts': 'export class DomainError extends Error {}\n',
  'src/platform/db/schema.ts': "import 'node:fs';\nexport type Executor = unknown;\n",
  'src/features/catalog/index.ts': "export { createThing } from './things/thing-use-cases.js';\n",
  'src/features/catalog/things/thing-rules.ts': "import { DomainError } from '../../../platform/errors.js';\nexport const check = () => new DomainError();\n",
  'src/features/catalog/things/thing-use-cases.ts': "import { check } from './thing-rules.js';\nimport type { Executor } from '../../../platform/db/schema.js';\nexport const createThing = (_db: Executor) => check();\n",
  'src/features/webhooks/index.ts': "import { createThing } from '../catalog/index.js';\nexport const hook = createThing;\n",
  'src/entry/routes.ts': "import { hook } from '../features/webhooks/index.js';\nexport const routes = [hook];\n",
};

/** One violation per rule: the file added, and the rule that must name it. */
const VIOLATIONS: { rule: string; file: string; source: string }[] = [
  { rule: 'platform-imports-no-feature', file: 'src/platform/http/app.ts', source: "import '../../features/catalog/index.js';\n" },
  { rule: 'features-through-index', file: 'src/features/webhooks/deliver.ts', source: "import '../catalog/things/thing-use-cases.js';\n" },
  { rule: 'entry-through-index', file: 'src/entry/cli.ts', source: "import '../features/catalog/things/thing-use-cases.js';\n" },
  { rule: 'pure-rules-no-io', file: 'src/features/catalog/things/clock-rules.ts', source: "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n" },
  { rule: 'pure-rules-no-io', file: 'src/features/catalog/things/query-rules.ts', source: "import type { Executor } from '../../../platform/db/schema.js';\nexport type E = Executor;\n" },
  { rule: 'src-imports-no-tests', file: 'src/platform/fixtures.ts', source: "import '../../test/helper.js';\n" },
];

async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  const tsconfig = { compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true }, include: ['src', 'test'] };
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  await mkdir(path.join(dir, 'test'), { recursive: true });
  await writeFile(path.join(dir, 'test/helper.ts'), 'export {};\n');
  for (const [file, source] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), source);
  }
}

/** The violations depcruise reports for the tree in `dir` (its JSON report; that reporter exits 0 either way). */
async function violations(dir: string): Promise<{ rule: string; from: string }[]> {
  const { stdout } = await run(process.execPath, [depcruise, '--config', config, '--output-type', 'json', 'src'], { cwd: dir, maxBuffer: 16 << 20 });
  const result = JSON.parse(stdout) as { summary: { violations: { rule: { name: string }; from: string }[] } };
  return result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from }));
}

describe('layer rules', () => {
  let clean: string;
  let broken: string;

  beforeAll(async () => {
    clean = await mkdtemp(path.join(tmpdir(), 'nedlia-layers-clean-'));
    broken = await mkdtemp(path.join(tmpdir(), 'nedlia-layers-broken-'));
    await writeTree(clean, CLEAN);
    await writeTree(broken, { ...CLEAN, ...Object.fromEntries(VIOLATIONS.map((v) => [v.file, v.source])) });
  });
  afterAll(async () => {
    await rm(clean, { recursive: true, force: true });
    await rm(broken, { recursive: true, force: true });
  });

  it('pass a tree that keeps them', async () => {
    expect(await violations(clean)).toEqual([]);
  });

  it('catch each deliberate violation, and nothing else', async () => {
    const found = await violations(broken);
    expect([...found].sort((a, b) => a.from.localeCompare(b.from))).toEqual(
      VIOLATIONS.map((v) => ({ rule: v.rule, from: v.file })).sort((a, b) => a.from.localeCompare(b.from)),
    );
  });
});
