/**
 * The request log: one line per request, when it completes, with the request id,
 * method, URL, status and duration; routes logging above info (health checks)
 * write none.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/platform/config/config.js';
import { buildApp, type App } from '../../src/entry/app.js';
import { engine, openTestDatabase, type TestDatabase } from '../support/engine.js';

let database: TestDatabase;
let app: App;
const lines: Record<string, unknown>[] = [];
beforeAll(async () => {
  database = await openTestDatabase();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  app = await buildApp({ config: loadConfig({ NODE_ENV: 'test' }), database, logger: pino({ level: 'info' }, sink) });
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const linesOf = (reqId: string) => lines.filter((line) => line.reqId === reqId);

describe(`request log on ${engine}`, () => {
  it('writes one line per request with its id, method, URL, status and duration', async () => {
    const res = await app.inject({ url: '/v1/placements/8a6e0804-2bd0-4c84-9a56-9d1e3f6a5a10', headers: { 'x-request-id': 'log-1' } });
    expect(res.statusCode).toBe(401);
    const completed = linesOf('log-1').filter((line) => line.msg === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ level: 30, method: 'GET', url: '/v1/placements/8a6e0804-2bd0-4c84-9a56-9d1e3f6a5a10', status: 401 });
    expect(typeof completed[0]!.ms).toBe('number');
    expect(linesOf('log-1').some((line) => line.msg === 'incoming request')).toBe(false);
    // Secrets never reach the log: the line carries no headers at all.
    await app.inject({ url: '/v1/placements', headers: { 'x-request-id': 'log-2', authorization: 'Bearer secret.token.here' } });
    expect(JSON.stringify(linesOf('log-2'))).not.toContain('secret');
  });

  it('writes nothing for routes that log above info', async () => {
    const res = await app.inject({ url: '/health/live', headers: { 'x-request-id': 'log-3' } });
    expect(res.statusCode).toBe(200);
    expect(linesOf('log-3')).toEqual([]);
  });
});
