/**
 * `npm run package:lambda`: one bundle per Lambda function, built with esbuild and zipped
 * into `dist/lambda/<function>.zip` (handler `index.handler`, Node.js 20, ESM):
 *
 * - `api`: src/entry/lambda/api-handler.ts (with the Swagger UI's static files for /docs);
 * - `consumer-<name>`: one per consumer of src/entry/consumers.ts, read when this runs;
 * - `relay`, `maintenance` and `workers` (src/entry/workers.ts): the scheduled functions.
 *
 * What is checked on every build, and fails it: no development dependency (as
 * package-lock.json marks them) and no PGlite (replaced by a stub that refuses to open:
 * Lambda runs on PostgreSQL only) went into a bundle. The sizes are printed.
 */
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { zip } from './zip-writer.js';
import { ESM_BANNER } from '../esm-banner.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAMBDA_SRC = path.join(ROOT, 'src/entry/lambda');

export interface LambdaBundle {
  /** Function name suffix: `api`, `relay`, `maintenance`, `workers`, `consumer-<name>`. */
  name: string;
  kind: 'api' | 'consumer' | 'scheduled';
  consumer?: string;
  /** The bundle's directory (`index.mjs` and its files). */
  dir: string;
  zipPath: string;
  bundleBytes: number;
  zipBytes: number;
  /** Packages in the bundle (from node_modules), by name. */
  packages: string[];
}

interface Entry {
  name: string;
  kind: LambdaBundle['kind'];
  consumer?: string;
  contents: string;
}

const importPath = (file: string): string => JSON.stringify(path.join(LAMBDA_SRC, file));

async function entries(): Promise<Entry[]> {
  // The consumer list as the service has it now, never a copy.
  const { allConsumers } = await import('../../src/entry/consumers.js');
  return [
    { name: 'api', kind: 'api', contents: `export { handler } from ${importPath('api-handler.ts')};` },
    { name: 'relay', kind: 'scheduled', contents: `export { relayHandler as handler } from ${importPath('scheduled-handlers.ts')};` },
    { name: 'maintenance', kind: 'scheduled', contents: `export { maintenanceHandler as handler } from ${importPath('scheduled-handlers.ts')};` },
    { name: 'workers', kind: 'scheduled', contents: `export { workersHandler as handler } from ${importPath('worker-handlers.ts')};` },
    ...allConsumers.map((c) => ({
      name: `consumer-${c.name}`,
      kind: 'consumer' as const,
      consumer: c.name,
      contents: `import { sqsHandlerFor } from ${importPath('sqs-handler.ts')};\nexport const handler = sqsHandlerFor(${JSON.stringify(c.name)});`,
    })),
  ];
}

/** Lambda has no embedded database: PGlite is replaced by a class that says so. */
const noPglite: Plugin = {
  name: 'no-pglite',
  setup(b) {
    b.onResolve({ filter: /^@electric-sql\/pglite(\/.*)?$/ }, () => ({ path: 'pglite', namespace: 'nedlia-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'nedlia-stub' }, () => ({
      loader: 'js',
      contents: `const refuse = () => { throw new Error('the embedded database (PGlite) is not part of the Lambda bundle: set DATABASE_URL'); };
export class PGlite { constructor() { refuse(); } static async create() { refuse(); } }`,
    }));
  },
};

/**
 * Lambda takes its events from SQS (fed by EventBridge) and publishes through EventBridge
 * (`EVENT_BUS=sqs`), or uses the database (`postgres`): the NATS and RabbitMQ adapters
 * and their clients stay out, which shortens the module load of every cold start.
 */
const noBrokerClients: Plugin = {
  name: 'no-broker-clients',
  setup(b) {
    b.onResolve({ filter: /^\.\/(nats|rabbitmq)\/(nats|rabbitmq)-bus\.js$/ }, (args) => {
      if (!/create-bus\.ts$/.test(args.importer)) return undefined;
      const engine = /^\.\/(\w+)\//.exec(args.path)![1]!;
      return { path: engine, namespace: 'nedlia-no-bus' };
    });
    b.onLoad({ filter: /.*/, namespace: 'nedlia-no-bus' }, (args) => {
      const refuse = `throw new Error('EVENT_BUS=${args.path} is not in the Lambda bundle: use sqs (EventBridge) or postgres')`;
      return { loader: 'js', contents: `const refuse = () => { ${refuse}; };\nexport const NatsBus = { connect: refuse };\nexport const RabbitMqBus = { connect: refuse };` };
    });
  },
};

/** The Swagger UI serves its files from beside its code: in the bundle they sit in `static/` beside index.mjs. */
const SWAGGER_ROUTES = /@fastify[/\\]swagger-ui[/\\]lib[/\\]routes\.js$/;
const swaggerStatic: Plugin = {
  name: 'swagger-ui-static',
  setup(b) {
    b.onLoad({ filter: SWAGGER_ROUTES }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const from = "path.join(__dirname, '..', 'static')";
      if (!source.includes(from)) throw new Error(`@fastify/swagger-ui changed: ${args.path} no longer has ${from}`);
      return { loader: 'js', contents: source.replace(from, "path.join(__dirname, 'static')") };
    });
  },
};


/** `node_modules/a/node_modules/@b/c/lib/x.js` → `node_modules/a/node_modules/@b/c`. */
function packageDirOf(input: string): string | undefined {
  const parts = input.split('/');
  const last = parts.lastIndexOf('node_modules');
  if (last < 0) return undefined;
  const scoped = parts[last + 1]?.startsWith('@');
  return parts.slice(0, last + (scoped ? 3 : 2)).join('/');
}

async function checkInputs(name: string, metafile: Metafile): Promise<string[]> {
  const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const dir = packageDirOf(input);
    if (dir) dirs.add(dir);
  }
  const dev = [...dirs].filter((dir) => lock.packages[dir]?.dev === true);
  if (dev.length > 0) throw new Error(`bundle ${name} contains development dependencies: ${dev.join(', ')}`);
  const left = [...dirs].filter((dir) => /node_modules\/(@electric-sql\/pglite|nats|amqplib)$/.test(dir));
  if (left.length > 0) throw new Error(`bundle ${name} contains what Lambda leaves out: ${left.join(', ')}`);
  return [...new Set([...dirs].map((dir) => dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length)))].sort();
}

async function filesOf(dir: string, prefix = ''): Promise<{ name: string; data: Buffer }[]> {
  const { readdir } = await import('node:fs/promises');
  const out: { name: string; data: Buffer }[] = [];
  for (const item of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, item.name);
    if (item.isDirectory()) out.push(...(await filesOf(full, `${prefix}${item.name}/`)));
    else if (item.isFile()) out.push({ name: `${prefix}${item.name}`, data: await readFile(full) });
  }
  return out;
}

export interface BuildOptions {
  outDir?: string;
  /** Bundle names to build (all when absent). */
  only?: readonly string[];
  minify?: boolean;
}

export async function buildLambdaBundles(options: BuildOptions = {}): Promise<LambdaBundle[]> {
  const outDir = path.resolve(options.outDir ?? path.join(ROOT, 'dist/lambda'));
  await mkdir(outDir, { recursive: true });
  const bundles: LambdaBundle[] = [];
  for (const entry of await entries()) {
    if (options.only && !options.only.includes(entry.name)) continue;
    const dir = path.join(outDir, entry.name);
    await rm(dir, { recursive: true, force: true });
    const result = await build({
      stdin: { contents: entry.contents, resolveDir: ROOT, sourcefile: `${entry.name}.ts`, loader: 'ts' },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      outfile: path.join(dir, 'index.mjs'),
      minify: options.minify ?? true,
      keepNames: true,
      legalComments: 'none',
      metafile: true,
      logLevel: 'error',
      // Optional packages probed for inside a try (pg's native binding; `debug` looks for
      // supports-color, a development dependency here): absent in the bundle, as in production.
      external: ['pg-native', 'supports-color'],
      banner: { js: ESM_BANNER },
      plugins: [noPglite, noBrokerClients, swaggerStatic],
    });
    const packages = await checkInputs(entry.name, result.metafile);
    if (packages.includes('@fastify/swagger-ui')) {
      await cp(path.join(ROOT, 'node_modules/@fastify/swagger-ui/static'), path.join(dir, 'static'), { recursive: true });
    }
    await writeFile(path.join(dir, 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
    const files = await filesOf(dir);
    const zipPath = path.join(outDir, `${entry.name}.zip`);
    await writeFile(zipPath, zip(files));
    const bundleBytes = (await stat(path.join(dir, 'index.mjs'))).size;
    const zipBytes = (await stat(zipPath)).size;
    bundles.push({ name: entry.name, kind: entry.kind, ...(entry.consumer ? { consumer: entry.consumer } : {}), dir, zipPath, bundleBytes, zipBytes, packages });
  }
  return bundles;
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const bundles = await buildLambdaBundles();
  console.log('function                              handler        bundle      zip');
  for (const b of bundles) console.log(`${b.name.padEnd(38)}index.handler  ${kib(b.bundleBytes).padStart(9)}  ${kib(b.zipBytes).padStart(9)}`);
  console.log(`${bundles.length} zips in ${path.relative(ROOT, path.dirname(bundles[0]!.zipPath))}/ in ${((performance.now() - started) / 1000).toFixed(1)} s; no development dependencies, no PGlite`);
  process.exit(0);
}
