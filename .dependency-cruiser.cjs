/**
 * The layer rules of src/ (npm run lint runs them; CONTRIBUTING draws the layout):
 *   platform/  mechanics every feature runs on: it imports no feature and no entry;
 *   features/  one folder per feature: another folder uses a feature only through its index.ts;
 *   entry/     process starts and the lists that wire features in: features through index.ts too;
 *   *-rules.ts pure rules (and the few pure platform files they use): no I/O, no packages.
 * test/architecture/layer-rules.test.ts breaks each rule once on purpose and checks it is caught.
 */
const PURE = '(-(rules|model)\\.ts$)|(^src/platform/errors\\.ts$)|(^src/platform/auth/actor\\.ts$)|(^src/platform/events/retry-policy\\.ts$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'platform-imports-no-feature',
      comment: 'platform/ is what features run on: it may not know any feature, nor the entry that wires them.',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: '^src/(features|entry)/' },
    },
    {
      name: 'features-through-index',
      comment: "Another feature's files are its own: import what it exports from its index.ts.",
      severity: 'error',
      from: { path: '^src/features/([^/]+)/' },
      to: { path: '^src/features/', pathNot: ['^src/features/$1/', '^src/features/[^/]+/index\\.ts$'] },
    },
    {
      name: 'entry-through-index',
      comment: 'The entry wires features in through their index.ts, never into their files.',
      severity: 'error',
      from: { path: '^src/entry/' },
      to: { path: '^src/features/', pathNot: '^src/features/[^/]+/index\\.ts$' },
    },
    {
      name: 'pure-rules-no-io',
      comment: 'Rules are pure functions: they import other pure files only (no node:, no packages, no repositories or routes).',
      severity: 'error',
      from: { path: PURE },
      to: { pathNot: PURE },
    },
    {
      name: 'src-imports-no-tests',
      comment: 'Code under src/ never reaches into test/, bench/ or scripts/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
