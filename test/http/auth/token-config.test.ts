/**
 * Token verification from configuration: the three AUTH_* variables go together,
 * the key set comes from a file or an http(s) URL (fetched once, then cached), and
 * with the development issuer on as well, tokens of either issuer are accepted —
 * each only with its own keys.
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/platform/config/config.js';
import { DEV_AUDIENCE, DEV_ISSUER } from '../../../src/platform/auth/dev-issuer.js';
import { createJwtVerifier, type TokenVerifier } from '../../../src/platform/auth/jwt-verifier.js';
import { tokenVerificationFromConfig } from '../../../src/platform/auth/token-verification.js';
import { withVerifiedTokenCache } from '../../../src/platform/auth/verified-token-cache.js';
import { spawnService } from '../../support/service-process.js';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer, type TestIssuer } from '../../support/tokens.js';
import { configErrorOf } from '../../support/config-error.js';

let dir: string;
let jwksFile: string;
let issuer: TestIssuer;
let jwksServer: Server;
let jwksUrl: string;
let jwksFetches = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-auth-config-'));
  issuer = await createTestIssuer();
  jwksFile = path.join(dir, 'jwks.json');
  await writeFile(jwksFile, JSON.stringify(issuer.jwks));
  jwksServer = createServer((req, res) => {
    jwksFetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks));
  });
  jwksServer.listen(0, '127.0.0.1');
  await once(jwksServer, 'listening');
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/.well-known/jwks.json`;
});
afterAll(async () => {
  jwksServer?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('token verification configuration', () => {
  it('wants AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE together, and says so in one line', () => {
    const all = { AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json', AUTH_ISSUER: TEST_ISSUER, AUTH_AUDIENCE: TEST_AUDIENCE };
    expect(loadConfig(all).auth).toEqual({ jwksUrl: all.AUTH_JWKS_URL, issuer: TEST_ISSUER, audience: TEST_AUDIENCE, devIssuer: false });
    const onlyUrl = configErrorOf({ AUTH_JWKS_URL: all.AUTH_JWKS_URL });
    expect(onlyUrl.variable).toBe('AUTH_ISSUER');
    expect(onlyUrl.message).toMatch(/AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE go together/);
    expect(onlyUrl.message).not.toContain('\n');
    expect(configErrorOf({ AUTH_JWKS_URL: all.AUTH_JWKS_URL, AUTH_ISSUER: TEST_ISSUER }).variable).toBe('AUTH_AUDIENCE');
    expect(configErrorOf({ AUTH_AUDIENCE: TEST_AUDIENCE }).variable).toBe('AUTH_JWKS_URL');
    expect(configErrorOf({ ...all, AUTH_JWKS_URL: 'ftp://idp.example/jwks' }).variable).toBe('AUTH_JWKS_URL');
    // Plain http only outside production (a local identity provider).
    expect(loadConfig({ ...all, AUTH_JWKS_URL: jwksUrl }).auth.jwksUrl).toBe(jwksUrl);
    expect(configErrorOf({ ...all, AUTH_JWKS_URL: jwksUrl, NODE_ENV: 'production' }).message).toMatch(/^AUTH_JWKS_URL: expected a URL \(https: or file:\)/);
  });

  it('reads a file: key set at start and verifies its tokens', async () => {
    const config = loadConfig({ AUTH_JWKS_URL: pathToFileURL(jwksFile).href, AUTH_ISSUER: TEST_ISSUER, AUTH_AUDIENCE: TEST_AUDIENCE });
    const { verifyToken, devIssuer } = await tokenVerificationFromConfig(config);
    expect(devIssuer).toBeUndefined();
    expect(await verifyToken!(await issuer.mint({ userId: 'u-file', roles: ['admin'] }))).toEqual({ userId: 'u-file', roles: ['admin'] });
  });

  it('stops the start with one line when the key set file is missing or not a key set', async () => {
    const base = { AUTH_ISSUER: TEST_ISSUER, AUTH_AUDIENCE: TEST_AUDIENCE };
    const missing = pathToFileURL(path.join(dir, 'nope.json')).href;
    await expect(tokenVerificationFromConfig(loadConfig({ ...base, AUTH_JWKS_URL: missing }))).rejects.toThrow(
      /^AUTH_JWKS_URL: expected a readable JSON Web Key Set file \(ENOENT/,
    );
    const notJwks = path.join(dir, 'not-jwks.json');
    await writeFile(notJwks, '{"hello": 1}');
    await expect(tokenVerificationFromConfig(loadConfig({ ...base, AUTH_JWKS_URL: pathToFileURL(notJwks).href }))).rejects.toThrow(ConfigError);

    // The service itself exits 1 with that line, before it opens any database.
    const service = spawnService('src/entry/main.ts', { ...base, AUTH_JWKS_URL: missing, DATA_DIR: dir, PORT: '0' });
    const code = await Promise.race([service.exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
    if (code === 'timeout') service.child.kill('SIGKILL');
    expect(code).toBe(1);
    expect(service.output()).toMatch(/^configuration error: AUTH_JWKS_URL: expected a readable JSON Web Key Set file/m);
  });

  it('fetches a remote key set once and then uses its cache', async () => {
    const config = loadConfig({ AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: TEST_ISSUER, AUTH_AUDIENCE: TEST_AUDIENCE });
    const { verifyToken } = await tokenVerificationFromConfig(config);
    const before = jwksFetches;
    for (let i = 0; i < 20; i++) {
      expect((await verifyToken!(await issuer.mint({ userId: `u-${i}`, roles: ['creator'] }))).userId).toBe(`u-${i}`);
    }
    expect(jwksFetches - before).toBe(1);
  });

  it('with both issuers on, accepts either, each only with its own keys', async () => {
    const config = loadConfig({
      AUTH_JWKS_URL: pathToFileURL(jwksFile).href,
      AUTH_ISSUER: TEST_ISSUER,
      AUTH_AUDIENCE: TEST_AUDIENCE,
      AUTH_DEV_ISSUER: '1',
      DATA_DIR: dir,
    });
    const { verifyToken, devIssuer } = await tokenVerificationFromConfig(config);
    const verify = verifyToken!;
    expect(await verify(await issuer.mint({ userId: 'real', roles: ['admin'] }))).toMatchObject({ userId: 'real' });
    expect(await verify(await devIssuer!.mint({ userId: 'dev', roles: ['creator'] }))).toMatchObject({ userId: 'dev' });

    // The external issuer's key claiming to be the development issuer, and the reverse.
    const forged = await new SignJWT({ 'cognito:groups': ['admin'] })
      .setProtectedHeader({ alg: 'RS256', kid: issuer.kid })
      .setSubject('x')
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setExpirationTime('5m')
      .sign(issuer.privateKey as CryptoKey);
    await expect(verify(forged)).rejects.toMatchObject({ kind: 'unauthorized' });
    const devKeyAsReal = (await devIssuer!.mint({ userId: 'y', roles: ['admin'] })).split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'y', iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    await expect(verify(`${devKeyAsReal[0]}.${payload}.${devKeyAsReal[2]}`)).rejects.toMatchObject({ kind: 'unauthorized' });
    await expect(verify('not-a-jwt')).rejects.toMatchObject({ kind: 'unauthorized' });
  });
});

describe('the verified-token cache', () => {
  const counted = () => {
    const real = createJwtVerifier({ jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
    const calls = { count: 0 };
    const verify: TokenVerifier = (token) => {
      calls.count++;
      return real(token);
    };
    return { verify, calls };
  };

  it('checks a token once, then answers from memory until its max age', async () => {
    const { verify, calls } = counted();
    let clock = Date.now();
    const cached = withVerifiedTokenCache(verify, { maxAgeMs: 60_000, now: () => clock });
    const token = await issuer.mint({ userId: 'cached', roles: ['creator'] });
    expect(cached.known?.(token)).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(await cached(token)).toEqual({ userId: 'cached', roles: ['creator'] });
    expect(calls.count).toBe(1);
    // Known without waiting (the request hook's fast path), until the max age.
    expect(cached.known?.(token)).toEqual({ userId: 'cached', roles: ['creator'] });
    clock += 61_000;
    expect(cached.known?.(token)).toBeUndefined();
    await cached(token);
    expect(calls.count).toBe(2);
  });

  it('never keeps a token past its exp, nor a token that failed', async () => {
    const { verify, calls } = counted();
    let clock = Date.now();
    const cached = withVerifiedTokenCache(verify, { maxAgeMs: 60_000, now: () => clock });
    const shortLived = await new SignJWT({ 'cognito:groups': ['admin'] })
      .setProtectedHeader({ alg: 'RS256', kid: issuer.kid })
      .setSubject('short')
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setExpirationTime(Math.floor(clock / 1000) + 10)
      .sign(issuer.privateKey as CryptoKey);
    await cached(shortLived);
    clock += 5_000;
    await cached(shortLived);
    expect(calls.count).toBe(1);
    clock += 6_000; // past exp: checked again (and with the real clock it still passes here)
    await cached(shortLived);
    expect(calls.count).toBe(2);

    const bad = `${shortLived.slice(0, -4)}AAAA`;
    await expect(cached(bad)).rejects.toMatchObject({ kind: 'unauthorized' });
    await expect(cached(bad)).rejects.toMatchObject({ kind: 'unauthorized' });
    expect(calls.count).toBe(4);
  });

  it('holds at most maxEntries tokens, dropping the oldest', async () => {
    const { verify, calls } = counted();
    const cached = withVerifiedTokenCache(verify, { maxEntries: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((userId) => issuer.mint({ userId, roles: ['creator'] })));
    for (const token of [a!, b!, c!, c!, b!]) await cached(token);
    expect(calls.count).toBe(3);
    await cached(a!);
    expect(calls.count).toBe(4);
  });
});
