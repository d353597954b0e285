/**
 * The bundled artefacts of `npm run package:lambda`, each run in a fresh Node process
 * (no tsx, no node_modules in reach of the bundle's code but what it carries) with AWS's
 * event shapes, against the local PostgreSQL (Lambda has no embedded database).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdaBundles, type LambdaBundle } from '../../scripts/packaging/package-lambda.js';
import type { TestDatabase } from '../support/engine.js';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer } from '../support/tokens.js';
import { openPostgresDatabase, placementCreated } from '../events/support.js';
import { eventBridgeEnvelope, httpApiV2Event, restApiV1Event, sqsEvent, sqsRecord } from './aws-events.js';

let dir: string;
let postgres: TestDatabase;
let bundles: Record<string, LambdaBundle>;
let env: Record<string, string>;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-lambda-'));
  // Outside the repository: the bundle finds no node_modules to fall back on.
  const built = await buildLambdaBundles({ outDir: path.join(dir, 'dist'), only: ['api', 'consumer-placement-details-projector'] });
  bundles = Object.fromEntries(built.map((b) => [b.name, b]));
  postgres = await openPostgresDatabase();
  const issuer = await createTestIssuer();
  const jwks = path.join(dir, 'jwks.json');
  await writeFile(jwks, JSON.stringify(issuer.jwks));
  token = await issuer.mint({ roles: ['admin'] });
  env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    DATABASE_URL: postgres.url!,
    AUTH_JWKS_URL: pathToFileURL(jwks).href,
    AUTH_ISSUER: TEST_ISSUER,
    AUTH_AUDIENCE: TEST_AUDIENCE,
    LOG_LEVEL: 'warn',
    DATABASE_POOL_SIZE: '2',
  };
}, 120_000);

afterAll(async () => {
  await postgres?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Invocation {
  loadMs: number;
  answers: { ms: number; answer: Record<string, unknown> }[];
}

async function invoke(bundle: LambdaBundle, events: unknown[]): Promise<Invocation> {
  const plan = path.join(dir, `plan-${Date.now()}.json`);
  await writeFile(plan, JSON.stringify({ events }));
  const child = spawn(process.execPath, [path.resolve('scripts/packaging/invoke-bundle.mjs'), path.join(bundle.dir, 'index.mjs'), plan], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`bundle exited ${code}: ${err}${out}`);
  const line = out.trim().split('\n').filter((l) => l.startsWith('{"loadMs"')).pop();
  if (!line) throw new Error(`no result from the bundle: ${out}${err}`);
  return JSON.parse(line) as Invocation;
}

describe('package:lambda bundles', () => {
  it('carry no PGlite and no development dependency', () => {
    for (const bundle of Object.values(bundles)) {
      expect(bundle.packages).not.toContain('@electric-sql/pglite');
      expect(bundle.packages).not.toContain('vitest');
      expect(bundle.zipBytes).toBeGreaterThan(0);
    }
    expect(bundles.api!.packages).toEqual(expect.arrayContaining(['fastify', '@fastify/aws-lambda', 'pg']));
  });

  it('the API bundle answers HTTP API and REST API events in a fresh process', async () => {
    const create = httpApiV2Event({
      method: 'POST', path: '/v1/advertisers', base64: true,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bundled', contact_email: 'ads@bundled.test' }),
    });
    const list = restApiV1Event({ method: 'GET', path: '/v1/advertisers', headers: { Authorization: `Bearer ${token}` } });
    const docs = httpApiV2Event({ method: 'GET', path: '/docs/static/swagger-ui.css' });
    const result = await invoke(bundles.api!, [create, list, docs]);
    const [created, listed, ui] = result.answers.map((a) => a.answer) as { statusCode: number; body: string; headers: Record<string, string> }[];
    expect(created!.statusCode, created!.body).toBe(201);
    expect(created!.headers['x-request-id']).toBe(create.requestContext.requestId);
    expect(listed!.statusCode).toBe(200);
    expect(JSON.parse(listed!.body).items.map((i: { name: string }) => i.name)).toContain('Bundled');
    expect(ui!.statusCode).toBe(200);
  });

  it('the consumer bundle projects an SQS batch and reports only the poison record', async () => {
    const good = placementCreated();
    const records = [sqsRecord(JSON.stringify(eventBridgeEnvelope(good))), sqsRecord('{"not":"an event"}')];
    const result = await invoke(bundles['consumer-placement-details-projector']!, [sqsEvent(records)]);
    expect(result.answers[0]!.answer).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.messageId }] });
    const row = await postgres.db.selectFrom('placement_details').select('placement_id').where('placement_id', '=', good.subject!).executeTakeFirst();
    expect(row).toEqual({ placement_id: good.subject });
  });
});
