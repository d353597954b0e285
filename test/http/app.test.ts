import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/platform/config/config.js';
import { buildApp, type App } from '../../src/entry/app.js';
import { engine, openTestDatabase, type TestDatabase } from '../support/engine.js';

let database: TestDatabase;
let app: App;
beforeAll(async () => {
  database = await openTestDatabase();
  app = await buildApp({ config: loadConfig({ NODE_ENV: 'test' }), database, logger: pino({ level: 'silent' }) });
  // A JSON route to send bodies to.
  app.post('/echo', async (request) => request.body);
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe(`HTTP basics on ${engine}`, () => {
  it('answers liveness and readiness (the database is checked)', async () => {
    const live = await app.inject({ url: '/health/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', checks: { database: 'ok' } });
  });

  it('echoes x-request-id, or makes one', async () => {
    const echoed = await app.inject({ url: '/health/live', headers: { 'x-request-id': 'req-42' } });
    expect(echoed.headers['x-request-id']).toBe('req-42');
    const made = await app.inject({ url: '/health/live' });
    expect(made.headers['x-request-id']).toMatch(UUID);
    // A header that could forge log lines is replaced.
    const forged = await app.inject({ url: '/health/live', headers: { 'x-request-id': 'a b\u0000c' } });
    expect(forged.headers['x-request-id']).toMatch(UUID);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await app.inject({ url: '/v1/nothing-here?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, title: 'Not Found', instance: '/v1/nothing-here?x=1', code: 'ROUTE.NOT_FOUND' });
  });

  it('answers malformed JSON with a 400 problem and unsupported content types with a 415 problem', async () => {
    const bad = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.json()).toMatchObject({ status: 400, code: 'REQUEST.MALFORMED_JSON' });
    const xml = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json()).toMatchObject({ status: 415, code: 'REQUEST.CONTENT_TYPE' });
  });

  it('reports not ready, without leaking details, when the database is gone', async () => {
    const other = await openTestDatabase();
    const lonely = await buildApp({ config: loadConfig({ NODE_ENV: 'test' }), database: other, logger: pino({ level: 'silent' }) });
    await other.close();
    const res = await lonely.inject({ url: '/health/ready' });
    await lonely.close();
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 503, code: 'SERVICE.NOT_READY', detail: 'not ready: database did not answer' });
  });
});
