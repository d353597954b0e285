/**
 * Admin operations over HTTP on the selected engine: dead letters listed, inspected,
 * replayed (the consumer then processes the event) and discarded; the event log by
 * aggregate; /metrics; readiness includes the bus. Admin only, problem+json errors.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config/config.js';
import { EventTypes } from '../../src/features/catalog/index.js';
import { createJwtVerifier } from '../../src/platform/auth/jwt-verifier.js';
import type { Consumer } from '../../src/platform/consumers/consumer.js';
import { ConsumerRuntime } from '../../src/platform/consumers/consumer-runtime.js';
import { insertEvents } from '../../src/platform/events/event-log.js';
import { buildApp, type App } from '../../src/entry/app.js';
import { startEventSide, type EventSide } from '../../src/entry/process/event-side.js';
import { engine, openTestDatabase, type TestDatabase } from '../support/engine.js';
import { createTestIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../support/tokens.js';
import { eventually, placementCreated, silentLogger } from './support.js';

let database: TestDatabase;
let app: App;
let side: EventSide;
let issuer: TestIssuer;
let adminToken: string;
let creatorToken: string;
beforeAll(async () => {
  database = await openTestDatabase();
  issuer = await createTestIssuer();
  const config = loadConfig({ NODE_ENV: 'test' });
  side = await startEventSide(config, database, silentLogger(), { relay: true, consumers: [] });
  app = await buildApp({
    config,
    database,
    logger: pino({ level: 'silent' }),
    verifyToken: createJwtVerifier({ jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE }),
    events: side,
  });
  adminToken = await issuer.mint({ userId: 'admin-7', roles: ['admin'] });
  creatorToken = await issuer.mint({ roles: ['creator'] });
});
afterAll(async () => {
  await app?.close();
  await side?.stop();
  await database?.close();
});

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe(`admin event operations over HTTP (${engine})`, () => {
  it('lists, inspects, replays and discards dead letters', async () => {
    const db = database.db;
    let healthy = false;
    const done: string[] = [];
    const consumer: Consumer = {
      name: `admin-flaky-${randomUUID().slice(0, 8)}`,
      types: [EventTypes.placementCreated],
      maxAttempts: 1,
      async handle(event) {
        if (!healthy) throw new Error('not today');
        done.push(event.id);
      },
    };
    const runtime = new ConsumerRuntime({ db, bus: side.bus, logger: silentLogger(), metrics: side.metrics });
    await db.deleteFrom('bus_events').execute();
    await runtime.start([consumer]);
    const [first, second] = [placementCreated(), placementCreated()];
    await db.transaction().execute((tx) => insertEvents(tx, [first!, second!]));
    await eventually(async () => (await db.selectFrom('dead_letters').select('id').where('consumer', '=', consumer.name).execute()).length === 2, 10_000, 'two dead letters');

    expect((await app.inject({ url: '/v1/admin/dead-letters' })).statusCode).toBe(401);
    const forbidden = await app.inject({ url: '/v1/admin/dead-letters', headers: auth(creatorToken) });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['content-type']).toContain('application/problem+json');

    const page1 = await app.inject({ url: `/v1/admin/dead-letters?consumer=${consumer.name}&limit=1`, headers: auth(adminToken) });
    expect(page1.statusCode).toBe(200);
    const body1 = page1.json<{ items: { id: string; event_id: string; status: string; attempts: number }[]; next_cursor: string | null }>();
    expect(body1.items).toHaveLength(1);
    expect(body1.next_cursor).toBeTruthy();
    const page2 = await app.inject({ url: `/v1/admin/dead-letters?consumer=${consumer.name}&limit=1&cursor=${body1.next_cursor}`, headers: auth(adminToken) });
    const body2 = page2.json<typeof body1>();
    expect(body2.items).toHaveLength(1);
    expect(body2.next_cursor).toBeNull();
    const byEvent = new Map([...body1.items, ...body2.items].map((i) => [i.event_id, i]));
    expect([...byEvent.keys()].sort()).toEqual([first!.id, second!.id].sort());

    const one = byEvent.get(first!.id)!;
    const detail = await app.inject({ url: `/v1/admin/dead-letters/${one.id}`, headers: auth(adminToken) });
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toMatchObject({ id: one.id, status: 'pending', attempts: 1, error: 'Error: not today', event: { id: first!.id } });
    expect((await app.inject({ url: `/v1/admin/dead-letters/${randomUUID()}`, headers: auth(adminToken) })).statusCode).toBe(404);
    expect((await app.inject({ url: '/v1/admin/dead-letters/not-a-uuid', headers: auth(adminToken) })).statusCode).toBe(422);

    healthy = true;
    const replay = await app.inject({ method: 'POST', url: `/v1/admin/dead-letters/${one.id}/replay`, headers: auth(adminToken) });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ status: 'replayed', resolved_by: 'admin-7' });
    await eventually(async () => done.includes(first!.id), 10_000, 'the replayed event processed');
    const again = await app.inject({ method: 'POST', url: `/v1/admin/dead-letters/${one.id}/replay`, headers: auth(adminToken) });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'DEAD_LETTER.ALREADY_RESOLVED' });

    const other = byEvent.get(second!.id)!;
    const discard = await app.inject({ method: 'POST', url: `/v1/admin/dead-letters/${other.id}/discard`, headers: auth(adminToken) });
    expect(discard.statusCode).toBe(200);
    expect(discard.json()).toMatchObject({ status: 'discarded' });
    const pending = await app.inject({ url: `/v1/admin/dead-letters?consumer=${consumer.name}&status=pending`, headers: auth(adminToken) });
    expect(pending.json()).toEqual({ items: [], next_cursor: null });
    expect(done).toEqual([first!.id]);

    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain(`nedlia_consumer_dead_lettered_total{consumer="${consumer.name}"} 2`);
    expect(metrics.body).toContain(`nedlia_consumer_processed_total{consumer="${consumer.name}"} 1`);
    expect(metrics.body).toMatch(new RegExp(`nedlia_consumer_queue_depth\\{consumer="${consumer.name}"\\} 0`));
    expect(metrics.body).toContain('nedlia_consumer_lag_seconds');
    expect(metrics.body).toMatch(/nedlia_http_requests_total\{method="GET",route="\/v1\/admin\/dead-letters",status="200"\} \d+/);
    expect(metrics.body).toContain('nedlia_outbox_backlog');
    await runtime.stop();
  });

  it('returns the event log of an aggregate in order, admin only', async () => {
    const db = database.db;
    const subject = randomUUID();
    const events = [placementCreated(subject), placementCreated(subject), placementCreated(subject)];
    await db.transaction().execute((tx) => insertEvents(tx, events));
    expect((await app.inject({ url: `/v1/admin/events?aggregate_id=${subject}`, headers: auth(creatorToken) })).statusCode).toBe(403);
    const missing = await app.inject({ url: '/v1/admin/events', headers: auth(adminToken) });
    expect(missing.statusCode).toBe(422);
    const res = await app.inject({ url: `/v1/admin/events?aggregate_id=${subject}&limit=2`, headers: auth(adminToken) });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ items: { position: number; event: { id: string; subject: string; correlationid: string } }[]; next_cursor: string }>();
    expect(body.items.map((i) => i.event.id)).toEqual(events.slice(0, 2).map((e) => e.id));
    expect(body.items[0]?.event).toMatchObject({ specversion: '1.0', subject, correlationid: events[0]?.correlationid });
    const rest = await app.inject({ url: `/v1/admin/events?aggregate_id=${subject}&cursor=${body.next_cursor}`, headers: auth(adminToken) });
    expect(rest.json<typeof body>().items.map((i) => i.event.id)).toEqual([events[2]?.id]);
  });

  it('checks the bus for readiness', async () => {
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ checks: { database: 'ok', bus: 'ok' } });
  });
});
