/**
 * The Lambda handlers invoked in-process with AWS's documented event shapes, on the
 * test engine: the API for HTTP API (2.0) and REST API (1.0) events, binary bodies and
 * the request id; an SQS consumer handler answering partial batch failures; warm
 * invocations reusing what the cold start opened.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { pino } from 'pino';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../src/entry/lambda/api-handler.js';
import { onceOpened, openLambdaResources, type LambdaResources } from '../../src/entry/lambda/lambda-resources.js';
import { createSqsHandler, sqsHandlerFor } from '../../src/entry/lambda/sqs-handler.js';
import { createMaintenanceHandler, createRelayHandler } from '../../src/entry/lambda/scheduled-handlers.js';
import { createWorkersHandler } from '../../src/entry/lambda/worker-handlers.js';
import { allWorkers } from '../../src/entry/workers.js';
import type { BackgroundWorker } from '../../src/platform/workers/background-worker.js';
import { createObjectStorage } from '../../src/platform/storage/create-storage.js';
import { createJwtVerifier, type TokenVerifier } from '../../src/platform/auth/jwt-verifier.js';
import { EventTypes } from '../../src/features/catalog/index.js';
import { openTestDatabase, type TestDatabase } from '../support/engine.js';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer } from '../support/tokens.js';
import { placementCreated } from '../events/support.js';
import { eventBridgeEnvelope, httpApiV2Event, lambdaContext, restApiV1Event, sqsEvent, sqsRecord } from './aws-events.js';

let database: TestDatabase;
let opened = 0;
let verifications = 0;
let resources: () => Promise<LambdaResources>;
let adminToken: string;
// No SQS server here (lambda-sqs-backoff.test.ts has one): a retried record's visibility
// change is refused at once by a closed loopback port, and the record keeps the queue's timeout.
const noSqs = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });

beforeAll(async () => {
  database = await openTestDatabase();
  const issuer = await createTestIssuer();
  const jwt = createJwtVerifier({ jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
  const verifier: TokenVerifier = (token) => {
    verifications++;
    return jwt(token);
  };
  adminToken = await issuer.mint({ userId: `admin-${randomUUID()}`, roles: ['admin'] });
  resources = onceOpened(() => {
    opened++;
    return openLambdaResources({ env: { NODE_ENV: 'test', RATE_LIMIT_MAX: '0' }, database, verifier, sqs: noSqs, logger: pino({ level: 'silent' }) });
  });
});

afterAll(async () => {
  if (opened > 0) await (await resources()).close();
  await database?.close();
  noSqs.destroy();
});

describe('API handler', () => {
  const api = () => createApiHandler(resources);
  const auth = () => ({ authorization: `Bearer ${adminToken}` });

  it('answers an HTTP API (payload 2.0) event with the request id of the event', async () => {
    const handler = api();
    const event = httpApiV2Event({ method: 'GET', path: '/v1/me', headers: { ...auth(), 'x-request-id': 'client-chosen' } });
    const res = await handler(event, lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toBe(event.requestContext.requestId);
    expect(JSON.parse(res.body)).toMatchObject({ roles: ['admin'] });
  });

  it('takes a base64-encoded JSON body (v2) and a REST API (1.0) event, and the events carry the request id', async () => {
    const handler = api();
    const create = httpApiV2Event({
      method: 'POST', path: '/v1/advertisers', base64: true,
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Lambda Ltd', contact_email: 'ads@lambda.test' }),
    });
    const created = await handler(create, lambdaContext());
    expect(created.statusCode, created.body).toBe(201);
    const id = JSON.parse(created.body).id as string;
    const row = await database.db.selectFrom('event_log').select(['metadata']).where('aggregate_id', '=', id).executeTakeFirstOrThrow();
    expect((row.metadata as { correlationid?: string }).correlationid).toBe(create.requestContext.requestId);

    const read = restApiV1Event({ method: 'GET', path: `/v1/advertisers/${id}`, headers: { Authorization: `Bearer ${adminToken}` } });
    const got = await handler(read, lambdaContext());
    expect(got.statusCode).toBe(200);
    expect(got.headers.etag).toBe('"1"');
    expect(got.headers['x-request-id']).toBe(read.requestContext.requestId);
    expect(JSON.parse(got.body)).toMatchObject({ id, name: 'Lambda Ltd' });

    const listed = await handler(restApiV1Event({ method: 'GET', path: '/v1/advertisers', query: { limit: '1' }, headers: { Authorization: `Bearer ${adminToken}` } }), lambdaContext());
    expect(listed.statusCode).toBe(200);
    expect(JSON.parse(listed.body).items).toHaveLength(1);
  });

  it('answers a binary body of another type with a problem, not a crash', async () => {
    const res = await api()(
      httpApiV2Event({ method: 'POST', path: '/v1/advertisers', headers: { ...auth(), 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 2, 255, 254]) }),
      lambdaContext(),
    );
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('validates bodies and queries as the long-running API does (schemas compiled on first use)', async () => {
    const handler = api();
    const res = await handler(
      httpApiV2Event({ method: 'POST', path: '/v1/advertisers', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ name: 12345, extra: true }) }),
      lambdaContext(),
    );
    expect(res.statusCode).toBe(422);
    const paths = (JSON.parse(res.body).errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(expect.arrayContaining(['/name', '/contact_email']));
    const query = await handler(httpApiV2Event({ method: 'GET', path: '/v1/advertisers', query: { limit: '5000' }, headers: auth() }), lambdaContext());
    expect(query.statusCode).toBe(422);
    expect(JSON.parse(query.body).errors).toEqual([expect.objectContaining({ path: '/query/limit' })]);
    const fine = await handler(httpApiV2Event({ method: 'GET', path: '/v1/advertisers', query: { limit: '2' }, headers: auth() }), lambdaContext());
    expect(fine.statusCode).toBe(200);
  });

  it('answers 401 without a token and 404 for an unknown path, as problems', async () => {
    const handler = api();
    const anonymous = await handler(httpApiV2Event({ method: 'GET', path: '/v1/me' }), lambdaContext());
    expect(anonymous.statusCode).toBe(401);
    const unknown = await handler(restApiV1Event({ method: 'GET', path: '/v1/nothing-here' }), lambdaContext());
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('reuses the pool, the bus and the verified-token cache on warm invocations', async () => {
    const handler = api();
    const before = verifications;
    for (let i = 0; i < 3; i++) {
      const res = await handler(httpApiV2Event({ method: 'GET', path: '/v1/me', headers: auth() }), lambdaContext());
      expect(res.statusCode).toBe(200);
    }
    expect(opened).toBe(1);
    // The admin token was verified before: the cache answers every time.
    expect(verifications - before).toBe(0);
    const ready = await handler(httpApiV2Event({ method: 'GET', path: '/health/ready' }), lambdaContext());
    expect(JSON.parse(ready.body)).toMatchObject({ checks: { database: 'ok', bus: 'ok' } });
  });
});

describe('SQS consumer handler', () => {
  it('acknowledges handled, duplicate and invalid events and returns only the poison body as a batch item failure', async () => {
    const handler = sqsHandlerFor('placement-details-projector', resources);
    const good = placementCreated();
    const invalid = { ...placementCreated(), data: { placement_id: 'not-a-uuid' } };
    const records = [
      sqsRecord(JSON.stringify(eventBridgeEnvelope(good))),
      sqsRecord(JSON.stringify(eventBridgeEnvelope(good))), // the same event delivered twice
      sqsRecord('test'), // the body of AWS's example record: not a CloudEvent
      sqsRecord(JSON.stringify(invalid)), // a raw CloudEvent body (queue-direct publishing) that fails its schema
    ];
    const result = await handler(sqsEvent(records), lambdaContext('nedlia-placement-details-projector'));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[2]!.messageId }]);
    const projected = await database.db.selectFrom('placement_details').selectAll().where('placement_id', '=', good.subject!).execute();
    expect(projected).toHaveLength(1);
    const dead = await database.db.selectFrom('dead_letters').select(['event_id', 'error']).where('event_id', '=', invalid.id).executeTakeFirstOrThrow();
    expect(dead.error).toMatch(/invalid event/);
  });

  it('retries a failing event through batchItemFailures until the runtime dead-letters it at its last attempt', async () => {
    const consumer = {
      name: `lambda-failing-${randomUUID().slice(0, 8)}`,
      types: [EventTypes.placementCreated],
      maxAttempts: 2,
      async handle() {
        throw new Error('poison');
      },
    };
    const handler = createSqsHandler(consumer, resources);
    const event = placementCreated();
    const fine = placementCreated();
    const first = sqsRecord(JSON.stringify(eventBridgeEnvelope(event)), { receiveCount: 1 });
    const result = await handler(sqsEvent([first]), lambdaContext());
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: first.messageId }]);
    // SQS delivers it again after the visibility timeout: ApproximateReceiveCount 2, the maximum.
    const again = sqsRecord(JSON.stringify(eventBridgeEnvelope(event)), { receiveCount: 2 });
    const ignored = sqsRecord(JSON.stringify(eventBridgeEnvelope({ ...fine, type: EventTypes.placementDeleted })));
    const last = await handler(sqsEvent([again, ignored]), lambdaContext());
    expect(last.batchItemFailures).toEqual([]);
    const dead = await database.db.selectFrom('dead_letters').select(['attempts', 'error']).where('consumer', '=', consumer.name).execute();
    expect(dead).toEqual([{ attempts: 2, error: 'Error: poison' }]);
  });
});

describe('SQS consumer handler concurrency', () => {
  it('handles a batch at most the consumer concurrency at a time, every record once', async () => {
    let inFlight = 0;
    let most = 0;
    const handled: string[] = [];
    const consumer = {
      name: `lambda-lanes-${randomUUID().slice(0, 8)}`,
      types: [EventTypes.placementCreated],
      concurrency: 2,
      // Outside any transaction, so deliveries overlap on either engine.
      async prepare() {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 50));
        inFlight--;
      },
      async handle(event: { id: string }) {
        handled.push(event.id);
      },
    };
    const events = Array.from({ length: 7 }, () => placementCreated());
    const result = await createSqsHandler(consumer, resources)(sqsEvent(events.map((e) => sqsRecord(JSON.stringify(eventBridgeEnvelope(e))))), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(handled.sort()).toEqual(events.map((e) => e.id).sort());
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(2);
  });
});

describe('scheduled handlers', () => {
  it('maintenance runs its tasks and the relay publishes the outbox within its time', async () => {
    const maintenance = await createMaintenanceHandler(resources)({}, lambdaContext('nedlia-maintenance'));
    expect(maintenance.applied).toEqual([]);
    // On PostgreSQL the relay waits for transactions still open anywhere on the server (other
    // test files share it): one invocation may pass without publishing; a later one publishes.
    const relay = createRelayHandler(resources);
    let published = 0;
    for (const until = Date.now() + 90_000; published === 0 && Date.now() < until; ) {
      published = (await relay({}, lambdaContext('nedlia-relay', 5_600))).published;
    }
    expect(published).toBeGreaterThan(0);
  }, 120_000);

  it('the workers function runs every background worker until shortly before its time runs out, then stops them', async () => {
    const events: string[] = [];
    const recording: BackgroundWorker = {
      name: 'recording',
      async start({ database: db }) {
        events.push('start');
        await sql`select 1`.execute(db.db);
        return {
          async stop() {
            events.push('stop');
          },
        };
      },
    };
    const handler = createWorkersHandler(resources, { workers: [...allWorkers, recording], marginMs: 1_000 });
    const started = Date.now();
    const result = await handler({}, lambdaContext('nedlia-workers', 3_000));
    const took = Date.now() - started;
    expect(result.workers).toEqual([...allWorkers.map((w) => w.name), 'recording']);
    expect(events).toEqual(['start', 'stop']);
    // Ran until 1 s before the end of its 3 s, and returned before its time ran out.
    expect(result.ranMs).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(60_000);
  }, 60_000);

  it('the workers function does the workers\' work: a pending sync snapshot is written and completed', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-lambda-workers-'));
    const own = await openLambdaResources({ env: { NODE_ENV: 'test', DATA_DIR: dataDir }, database, verifier: async () => { throw new Error('unused'); }, sqs: noSqs, logger: pino({ level: 'silent' }) });
    try {
      const request = await database.db.insertInto('sync_requests').values({ requested_by: `admin-${randomUUID()}`, sees_all: true, lease_until: null, object_key: null, cursor: null, changes_count: null, error: null, completed_at: null, correlation_id: null }).returning('id').executeTakeFirstOrThrow();
      const handler = createWorkersHandler(async () => own, { marginMs: 1_000 });
      let row: { status: string; object_key: string | null } | undefined;
      // On PostgreSQL the snapshot waits for transactions still open elsewhere on the server: a later invocation completes it.
      for (const until = Date.now() + 90_000; row?.status !== 'completed' && Date.now() < until; ) {
        await handler({}, lambdaContext('nedlia-workers', 4_000));
        row = await database.db.selectFrom('sync_requests').select(['status', 'object_key']).where('id', '=', request.id).executeTakeFirstOrThrow();
      }
      expect(row).toEqual({ status: 'completed', object_key: `sync-snapshots/${request.id}.json` });
      const storage = createObjectStorage(own.config);
      try {
        const stored = await storage.get(row!.object_key!);
        const snapshot = JSON.parse((await buffer(stored!.body)).toString('utf8')) as { sync_request_id: string };
        expect(snapshot.sync_request_id).toBe(request.id);
      } finally {
        storage.close();
      }
    } finally {
      await own.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
