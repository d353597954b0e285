/**
 * Request limits: rate limiting per caller (verified token subject, else client
 * address) with 429 problem + retry-after, health exempt; body size 413; CORS only
 * for the configured origins.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config/config.js';
import { createJwtVerifier } from '../../src/platform/auth/jwt-verifier.js';
import { buildApp, type App } from '../../src/entry/app.js';
import { engine, openTestDatabase, type TestDatabase } from '../support/engine.js';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer, type TestIssuer } from '../support/tokens.js';

let database: TestDatabase;
let issuer: TestIssuer;
const apps: App[] = [];

async function appWith(env: Record<string, string>): Promise<App> {
  const app = await buildApp({
    config: loadConfig({ NODE_ENV: 'test', ...env }),
    database,
    logger: pino({ level: 'silent' }),
    verifyToken: createJwtVerifier({ jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE }),
  });
  // A public JSON route (no token): counted per client address.
  app.post('/echo', async (request) => request.body ?? {});
  apps.push(app);
  return app;
}

const expectProblem = (res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }, status: number) => {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
};

beforeAll(async () => {
  database = await openTestDatabase();
  issuer = await createTestIssuer();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await database?.close();
});

describe('limit settings', () => {
  it('have sensible defaults and reject bad values in one line', () => {
    const config = loadConfig({});
    expect(config.bodyLimitBytes).toBe(1024 * 1024);
    expect(config.rateLimit).toEqual({ max: 600, windowMs: 60_000, store: 'memory' });
    expect(loadConfig({ RATE_LIMIT_STORE: 'redis' }).rateLimit.store).toBe('redis');
    expect(() => loadConfig({ RATE_LIMIT_STORE: 'memcached' })).toThrow(/^RATE_LIMIT_STORE: /);
    expect(config.corsOrigins).toEqual([]);
    expect(loadConfig({ RATE_LIMIT_MAX: '0' }).rateLimit.max).toBe(0);
    expect(loadConfig({ CORS_ORIGINS: ' https://a.example , https://b.example,' }).corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    for (const [name, value] of [['BODY_LIMIT_BYTES', '1mb'], ['BODY_LIMIT_BYTES', '10'], ['RATE_LIMIT_MAX', '-1'], ['RATE_LIMIT_WINDOW_MS', '5']]) {
      expect(() => loadConfig({ [name!]: value! }), `${name}=${value}`).toThrow(ConfigError);
      expect(() => loadConfig({ [name!]: value! })).toThrow(new RegExp(`^${name}: expected an integer`));
    }
  });
});

describe('rate limit store', () => {
  const namespace = `rl-test-${randomUUID().slice(0, 8)}`;
  const me = (app: App, token: string) => app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } });

  afterAll(async () => {
    const redis = new Redis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${namespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('RATE_LIMIT_STORE=redis: API processes share one count per caller', async () => {
    const env = { RATE_LIMIT_MAX: '4', RATE_LIMIT_STORE: 'redis', BUS_NAMESPACE: namespace };
    const [first, second] = [await appWith(env), await appWith(env)];
    const dora = await issuer.mint({ userId: `dora-${randomUUID()}`, roles: ['creator'] });
    for (const app of [first, second, first, second]) expect((await me(app, dora)).statusCode).toBe(200);
    expectProblem(await me(second, dora), 429);
    expectProblem(await me(first, dora), 429);
  });

  it('RATE_LIMIT_STORE=memory: each process counts on its own', async () => {
    const env = { RATE_LIMIT_MAX: '2' };
    const [first, second] = [await appWith(env), await appWith(env)];
    const fred = await issuer.mint({ userId: `fred-${randomUUID()}`, roles: ['creator'] });
    for (const app of [first, second, first, second]) expect((await me(app, fred)).statusCode).toBe(200);
    expectProblem(await me(first, fred), 429);
  });

  it('lets requests through when Redis cannot be reached, rather than refusing them', async () => {
    const app = await appWith({ RATE_LIMIT_MAX: '1', RATE_LIMIT_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:1' });
    const gina = await issuer.mint({ userId: `gina-${randomUUID()}`, roles: ['creator'] });
    for (let i = 0; i < 3; i++) expect((await me(app, gina)).statusCode).toBe(200);
  });
});

describe(`rate limiting (${engine})`, () => {
  let app: App;
  beforeAll(async () => {
    app = await appWith({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
  });

  const me = (token: string, remoteAddress = '10.0.0.1') =>
    app.inject({ url: '/v1/me', remoteAddress, headers: { authorization: `Bearer ${token}` } });

  it('answers 429 problem+json with retry-after once a caller is over its limit; another caller is unaffected', async () => {
    const alice = await issuer.mint({ userId: 'alice', roles: ['creator'] });
    const bob = await issuer.mint({ userId: 'bob', roles: ['creator'] });
    for (let i = 0; i < 3; i++) {
      const res = await me(alice);
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
      expect(res.headers['x-ratelimit-remaining']).toBe(String(2 - i));
    }
    const limited = await me(alice);
    expectProblem(limited, 429);
    expect(limited.json()).toMatchObject({ code: 'REQUEST.RATE_LIMITED', instance: '/v1/me' });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // A new token of the same subject, from another address, is still the same caller.
    expect((await me(await issuer.mint({ userId: 'alice', roles: ['creator'] }), '10.9.9.9')).statusCode).toBe(429);
    // Bob, from the same address, has his own allowance.
    expect((await me(bob)).statusCode).toBe(200);
    expect((await me(bob)).headers['x-ratelimit-remaining']).toBe('1');
  });

  it('counts per verified subject: forged tokens naming a caller cannot use up its allowance', async () => {
    const forged = (await issuer.mint({ userId: 'carol', roles: ['admin'] })).replace(/\.[^.]+$/, '.AAAA');
    for (let i = 0; i < 3; i++) expect((await me(forged, '10.6.6.6')).statusCode).toBe(401);
    const carol = await me(await issuer.mint({ userId: 'carol', roles: ['admin'] }), '10.0.0.7');
    expect(carol.statusCode).toBe(200);
    expect(carol.headers['x-ratelimit-remaining']).toBe('2');
  });

  it('counts failed authentications and unknown routes per address: a flood of them gets 429 too', async () => {
    const forged = (await issuer.mint({ userId: 'erin', roles: ['admin'] })).replace(/\.[^.]+$/, '.AAAA');
    for (let i = 0; i < 3; i++) expect((await me(forged, '10.7.7.7')).statusCode).toBe(401);
    const flooded = await me(forged, '10.7.7.7');
    expectProblem(flooded, 429);
    expect(Number(flooded.headers['retry-after'])).toBeGreaterThan(0);
    // That address's unauthenticated requests wait too; health checks and other addresses do not.
    expect((await app.inject({ method: 'POST', url: '/echo', remoteAddress: '10.7.7.7', payload: {} })).statusCode).toBe(429);
    expect((await app.inject({ url: '/health/live', remoteAddress: '10.7.7.7' })).statusCode).toBe(200);
    expect((await me(forged, '10.7.7.8')).statusCode).toBe(401);

    for (let i = 0; i < 3; i++) expect((await app.inject({ url: `/v1/probe-${i}`, remoteAddress: '10.8.8.8' })).statusCode).toBe(404);
    expectProblem(await app.inject({ url: '/v1/probe-x', remoteAddress: '10.8.8.8' }), 429);
  });

  it('counts unauthenticated requests per client address, and never limits health checks', async () => {
    const echo = (remoteAddress: string) => app.inject({ method: 'POST', url: '/echo', remoteAddress, payload: { n: 1 } });
    for (let i = 0; i < 3; i++) expect((await echo('192.0.2.1')).statusCode).toBe(200);
    expectProblem(await echo('192.0.2.1'), 429);
    expect((await echo('192.0.2.2')).statusCode).toBe(200);
    // The exhausted address still gets health answers, and a token of its own allowance.
    for (let i = 0; i < 10; i++) {
      const live = await app.inject({ url: '/health/live', remoteAddress: '192.0.2.1' });
      expect(live.statusCode).toBe(200);
      expect(live.headers['x-ratelimit-limit']).toBeUndefined();
    }
    expect((await app.inject({ url: '/health/ready', remoteAddress: '192.0.2.1' })).statusCode).toBe(200);
    expect((await me(await issuer.mint({ userId: 'dave', roles: ['creator'] }), '192.0.2.1')).statusCode).toBe(200);
  });

  it('is off with RATE_LIMIT_MAX=0', async () => {
    const unlimited = await appWith({ RATE_LIMIT_MAX: '0' });
    for (let i = 0; i < 20; i++) {
      const res = await unlimited.inject({ method: 'POST', url: '/echo', payload: {} });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });
});

describe(`client address behind proxies (${engine})`, () => {
  it('TRUST_PROXY takes a hop count or proxy addresses, and nothing else', () => {
    expect(loadConfig({}).trustProxy).toBe(0);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    for (const bad of ['yes', '11', 'lb.internal']) expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/^TRUST_PROXY: expected/);
  });

  const echoFrom = (app: App, forwardedFor: string) =>
    app.inject({ method: 'POST', url: '/echo', remoteAddress: '10.1.1.1', headers: { 'x-forwarded-for': forwardedFor }, payload: {} });

  it('ignores x-forwarded-for by default: a client cannot pick its own address', async () => {
    const app = await appWith({ RATE_LIMIT_MAX: '2' });
    expect((await echoFrom(app, '203.0.113.1')).statusCode).toBe(200);
    expect((await echoFrom(app, '203.0.113.2')).statusCode).toBe(200);
    expect((await echoFrom(app, '203.0.113.3')).statusCode).toBe(429);
  });

  it('behind a trusted proxy, counts per forwarded client address', async () => {
    for (const trust of ['1', '10.0.0.0/8']) {
      const app = await appWith({ RATE_LIMIT_MAX: '2', TRUST_PROXY: trust });
      for (let i = 0; i < 2; i++) expect((await echoFrom(app, '203.0.113.1')).statusCode).toBe(200);
      expect((await echoFrom(app, '203.0.113.1')).statusCode).toBe(429);
      expect((await echoFrom(app, '203.0.113.2')).statusCode).toBe(200);
    }
  });
});

describe(`body size limit (${engine})`, () => {
  it('answers 413 problem+json above BODY_LIMIT_BYTES', async () => {
    const app = await appWith({ BODY_LIMIT_BYTES: '2048', RATE_LIMIT_MAX: '0' });
    const small = await app.inject({ method: 'POST', url: '/echo', payload: { text: 'x'.repeat(1000) } });
    expect(small.statusCode).toBe(200);
    const large = await app.inject({ method: 'POST', url: '/echo', payload: { text: 'x'.repeat(3000) } });
    expectProblem(large, 413);
    expect(large.json()).toMatchObject({ code: 'REQUEST.TOO_LARGE' });
    // Without a content-length (a chunked upload), the limit holds as the body streams in.
    const streamed = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: Readable.from([Buffer.from('{"text":"'), Buffer.alloc(4096, 'y'), Buffer.from('"}')]),
    });
    expectProblem(streamed, 413);
  });

  it('defaults to 1 MiB', async () => {
    const app = await appWith({ RATE_LIMIT_MAX: '0' });
    const justUnder = await app.inject({ method: 'POST', url: '/echo', payload: { t: 'x'.repeat(1024 * 1024 - 100) } });
    expect(justUnder.statusCode).toBe(200);
    expectProblem(await app.inject({ method: 'POST', url: '/echo', payload: { t: 'x'.repeat(1024 * 1024) } }), 413);
  });
});

describe(`CORS (${engine})`, () => {
  const PORTAL = 'https://portal.nedlia.dev';
  const preflight = (app: App, origin: string) =>
    app.inject({
      method: 'OPTIONS',
      url: '/v1/me',
      headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization,if-match,content-type' },
    });

  it('sends CORS headers to the configured origins only', async () => {
    const app = await appWith({ CORS_ORIGINS: `${PORTAL},https://editor.nedlia.dev`, RATE_LIMIT_MAX: '0' });
    const allowed = await app.inject({ url: '/health/live', headers: { origin: PORTAL } });
    expect(allowed.headers['access-control-allow-origin']).toBe(PORTAL);
    expect(String(allowed.headers.vary)).toMatch(/origin/i);
    expect(String(allowed.headers['access-control-expose-headers'])).toMatch(/etag/);
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
    const other = await app.inject({ url: '/health/live', headers: { origin: 'https://evil.example' } });
    expect(other.statusCode).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    // A look-alike is not the configured origin.
    const lookalike = await app.inject({ url: '/health/live', headers: { origin: `${PORTAL}.evil.example` } });
    expect(lookalike.headers['access-control-allow-origin']).toBeUndefined();

    const ok = await preflight(app, PORTAL);
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(PORTAL);
    expect(String(ok.headers['access-control-allow-methods'])).toMatch(/PATCH/);
    expect(String(ok.headers['access-control-allow-methods'])).toMatch(/DELETE/);
    expect(String(ok.headers['access-control-allow-headers'])).toMatch(/authorization/);
    expect((await preflight(app, 'https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
    // Errors carry the header too, so the portal can read them.
    const unauthorized = await app.inject({ url: '/v1/me', headers: { origin: PORTAL } });
    expect(unauthorized.statusCode).toBe(401);
    expect(unauthorized.headers['access-control-allow-origin']).toBe(PORTAL);
  });

  it('sends no CORS headers to any origin by default', async () => {
    const app = await appWith({ RATE_LIMIT_MAX: '0' });
    for (const origin of [PORTAL, 'https://evil.example', 'null']) {
      const res = await app.inject({ url: '/health/live', headers: { origin } });
      expect(res.statusCode).toBe(200);
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      const pre = await preflight(app, origin);
      expect(Object.keys(pre.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });
});
