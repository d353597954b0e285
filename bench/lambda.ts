/**
 * `npm run bench:lambda`: the bundled API handler (`npm run package:lambda`'s `api`),
 * each run in a fresh Node process the way the Lambda runtime loads it, against the local
 * PostgreSQL (`BENCH_DATABASE_URL`'s server, default the local one):
 *
 * - cold start = module load + the first invocation (it opens the pool, the bus client and
 *   the key set, then answers an authenticated `GET /v1/advertisers/{id}`), over
 *   `BENCH_COLD_RUNS` fresh processes (default 7); goal ≤ 500 ms;
 * - warm invocations per second: `BENCH_WARM_INVOCATIONS` (default 3000) of the same GET
 *   one after another in one process (a Lambda container takes one invocation at a time);
 * - the same for the SQS consumer bundle, batches of 10 placement events.
 * Runs here include the node start itself (`process` column), which Lambda's own runtime
 * start replaces; the INIT of a real function also includes fetching the zip.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { openPostgres } from '../src/platform/db/connect.js';
import { migrations } from '../src/platform/db/migrations/index.js';
import { migrateUp } from '../src/platform/db/migrator.js';
import { ensureEventLogPartitions } from '../src/platform/db/partitions.js';
import { buildLambdaBundles } from '../scripts/packaging/package-lambda.js';
import { eventBridgeEnvelope, httpApiV2Event, sqsEvent, sqsRecord } from '../test/serverless/aws-events.js';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer } from '../test/support/tokens.js';
import { buildEvent } from '../src/platform/events/event-log.js';
import { randomUUID } from 'node:crypto';
import '../src/entry/event-types.js';

const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const coldRuns = Number(process.env.BENCH_COLD_RUNS ?? 7);
const warmCount = Number(process.env.BENCH_WARM_INVOCATIONS ?? 3000);

const dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-bench-lambda-'));
const name = `nedlia_bench_lambda_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const handle = openPostgres({ connectionString: url.toString(), max: 2 });

interface Result {
  loadMs: number;
  answers: { ms: number; answer: { statusCode?: number; body?: string } }[];
  repeat?: { count: number; failed: number; perSecond: number };
}

function run(bundle: string, plan: object, env: Record<string, string>): Promise<Result & { processMs: number }> {
  return (async () => {
    const file = path.join(dir, `plan-${randomBytes(4).toString('hex')}.json`);
    await writeFile(file, JSON.stringify(plan));
    const started = performance.now();
    const child = spawn(process.execPath, [path.resolve('scripts/packaging/invoke-bundle.mjs'), bundle, file], { env, cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const processMs = performance.now() - started;
    const line = out.trim().split('\n').filter((l) => l.startsWith('{"loadMs"')).pop();
    if (code !== 0 || !line) throw new Error(`bundle run failed (${code}): ${out}`);
    return { ...(JSON.parse(line) as Result), processMs };
  })();
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

try {
  await migrateUp(handle.db, migrations);
  await ensureEventLogPartitions(handle.db);
  const advertiser = await handle.db.insertInto('advertisers').values({ name: 'Bench', contact_email: 'ads@bench.test' }).returning('id').executeTakeFirstOrThrow();
  const built = await buildLambdaBundles({ outDir: path.join(dir, 'dist'), only: ['api', 'consumer-placement-details-projector'] });
  const api = built.find((b) => b.name === 'api')!;
  const consumer = built.find((b) => b.name === 'consumer-placement-details-projector')!;
  const issuer = await createTestIssuer();
  const jwks = path.join(dir, 'jwks.json');
  await writeFile(jwks, JSON.stringify(issuer.jwks));
  const token = await issuer.mint({ roles: ['admin'] });
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    DATABASE_URL: url.toString(),
    AUTH_JWKS_URL: pathToFileURL(jwks).href,
    AUTH_ISSUER: TEST_ISSUER,
    AUTH_AUDIENCE: TEST_AUDIENCE,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '0',
    DATABASE_POOL_SIZE: '2',
  };
  const get = httpApiV2Event({ method: 'GET', path: `/v1/advertisers/${advertiser.id}`, headers: { authorization: `Bearer ${token}` } });

  const cold: { load: number; first: number; process: number }[] = [];
  for (let i = 0; i < coldRuns; i++) {
    const r = await run(path.join(api.dir, 'index.mjs'), { events: [get] }, env);
    if (r.answers[0]?.answer.statusCode !== 200) throw new Error(`cold invocation answered ${JSON.stringify(r.answers[0]?.answer)}`);
    cold.push({ load: r.loadMs, first: r.answers[0].ms, process: r.processMs });
  }
  const warm = await run(path.join(api.dir, 'index.mjs'), { events: [get], repeat: { event: get, count: warmCount } }, env);

  const batch = () =>
    sqsEvent(
      Array.from({ length: 10 }, () => {
        const id = randomUUID();
        const event = buildEvent(
          { type: 'com.nedlia.placement.created', subject: id, data: { placement_id: id, video_id: randomUUID(), product_id: randomUUID(), time_range: { start_time: 1, end_time: 2 } } },
          { correlationId: randomUUID(), actor: 'bench' },
        );
        return sqsRecord(JSON.stringify(eventBridgeEnvelope(event)));
      }),
    );
  const batches = Array.from({ length: 200 }, batch);
  const consumerRun = await run(path.join(consumer.dir, 'index.mjs'), { events: batches }, env);
  const batchMs = consumerRun.answers.slice(1).map((a) => a.ms);
  const eventsPerSecond = (10 * batchMs.length) / (batchMs.reduce((s, v) => s + v, 0) / 1000);

  const coldTotals = cold.map((c) => c.load + c.first);
  console.table(
    cold.map((c, i) => ({ run: i + 1, 'module load (ms)': Math.round(c.load), 'first invocation (ms)': Math.round(c.first), 'cold start (ms)': Math.round(c.load + c.first), 'process (ms)': Math.round(c.process) })),
  );
  console.table([
    { measure: 'api zip (KiB)', value: Math.round(api.zipBytes / 1024) },
    { measure: 'api cold start, median (ms)', value: Math.round(median(coldTotals)) },
    { measure: 'api cold start, min (ms)', value: Math.round(Math.min(...coldTotals)) },
    { measure: 'api cold start, max (ms)', value: Math.round(Math.max(...coldTotals)) },
    { measure: 'api cold start goal (ms)', value: 500 },
    { measure: 'api warm invocations/s (GET one advertiser)', value: Math.round(warm.repeat!.perSecond) },
    { measure: 'api warm failures', value: warm.repeat!.failed },
    { measure: 'consumer cold start: load + first batch of 10 (ms)', value: Math.round(consumerRun.loadMs + (consumerRun.answers[0]?.ms ?? 0)) },
    { measure: 'consumer warm events/s (batches of 10)', value: Math.round(eventsPerSecond) },
  ]);
} finally {
  await handle.close();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
