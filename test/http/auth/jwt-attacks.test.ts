/**
 * Tokens an attacker might send to a protected route (`GET /v1/me`): each must get
 * a 401 problem, and only a properly signed, current token for this audience gets in.
 */
import { constants, createPublicKey, KeyObject, randomUUID, sign as cryptoSign, type JsonWebKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWTPayload } from 'jose';
import { loadConfig } from '../../../src/platform/config/config.js';
import { createJwtVerifier } from '../../../src/platform/auth/jwt-verifier.js';
import { buildApp, type App } from '../../../src/entry/app.js';
import { engine, openTestDatabase, type TestDatabase } from '../../support/engine.js';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer, type TestIssuer } from '../../support/tokens.js';

let database: TestDatabase;
let app: App;
let issuer: TestIssuer;
let ecKey: { kid: string; privateKey: CryptoKey };

const now = () => Math.floor(Date.now() / 1000);
const ADVERTISER = randomUUID();

/** Claims of a valid advertiser ID token; each attack changes one thing. */
const validClaims = (): JWTPayload => ({
  sub: 'user-1',
  iss: TEST_ISSUER,
  aud: TEST_AUDIENCE,
  iat: now(),
  exp: now() + 600,
  'cognito:groups': ['advertiser'],
  'custom:advertiser_id': ADVERTISER,
});

const sign = (claims: JWTPayload, header: Record<string, unknown> = {}, key: CryptoKey | Uint8Array = issuer.privateKey) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: issuer.kid, ...header } as { alg: string }).sign(key);

const me = (authorization?: string) =>
  app.inject({ url: '/v1/me', headers: authorization === undefined ? {} : { authorization } });

async function expectUnauthorized(authorization: string | undefined): Promise<void> {
  const res = await me(authorization);
  expect(res.statusCode, res.body).toBe(401);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({ status: 401, title: 'Unauthorized', instance: '/v1/me' });
  expect(body.code).toMatch(/^AUTH\./);
  expect(res.body).not.toContain('user-1');
}

beforeAll(async () => {
  database = await openTestDatabase();
  issuer = await createTestIssuer();
  // A second, ES256 key in the same set: both allowed algorithms are exercised.
  const ec = await generateKeyPair('ES256', { extractable: true });
  ecKey = { kid: randomUUID(), privateKey: ec.privateKey as CryptoKey };
  const jwks = { keys: [...issuer.jwks.keys, { ...(await exportJWK(ec.publicKey)), kid: ecKey.kid, alg: 'ES256', use: 'sig' }] };
  app = await buildApp({
    config: loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0' }),
    database,
    logger: pino({ level: 'silent' }),
    verifyToken: createJwtVerifier({ jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE }),
  });
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

describe(`JWT verification on a protected route (${engine})`, () => {
  it('lets a valid RS256 token in and reports the actor it carries', async () => {
    const res = await me(`Bearer ${await sign(validClaims())}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ user_id: 'user-1', roles: ['advertiser'], advertiser_id: ADVERTISER });
  });

  it('lets a valid ES256 token in, and tokens minted by the test issuer', async () => {
    const es = await new SignJWT({ ...validClaims(), 'cognito:groups': ['creator', 'unknown-group'] })
      .setProtectedHeader({ alg: 'ES256', kid: ecKey.kid })
      .sign(ecKey.privateKey);
    const res = await me(`Bearer ${es}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ user_id: 'user-1', roles: ['creator'], advertiser_id: ADVERTISER });
    const minted = await me(`Bearer ${await issuer.mint({ userId: 'admin-7', roles: ['admin'] })}`);
    expect(minted.json()).toEqual({ user_id: 'admin-7', roles: ['admin'], advertiser_id: null });
  });

  it('accepts a Cognito access token: the right client_id and no aud', async () => {
    const { aud: _aud, ...claims } = validClaims();
    const res = await me(`Bearer ${await sign({ ...claims, client_id: TEST_AUDIENCE, token_use: 'access' })}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().user_id).toBe('user-1');
  });

  it('rejects alg none', async () => {
    const unsecured = new UnsecuredJWT(validClaims()).encode();
    await expectUnauthorized(`Bearer ${unsecured}`);
    // The same with the header naming a real kid.
    const [, payload] = unsecured.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: issuer.kid })).toString('base64url');
    await expectUnauthorized(`Bearer ${header}.${payload}.`);
  });

  it('rejects HS256 signed with the RSA public key as the secret', async () => {
    const jwk = issuer.jwks.keys[0]!;
    const publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    for (const secret of [Buffer.from(pem), der, Buffer.from(JSON.stringify(jwk))]) {
      await expectUnauthorized(`Bearer ${await sign(validClaims(), { alg: 'HS256' }, new Uint8Array(secret))}`);
    }
  });

  it('rejects an allowed key used with an algorithm outside the allowlist', async () => {
    // Signed by hand: a WebCrypto key is bound to one algorithm, the attacker's tools are not.
    const privateKey = KeyObject.from(issuer.privateKey);
    const handSigned = (alg: string, signature: (data: Buffer) => Buffer) => {
      const header = Buffer.from(JSON.stringify({ alg, kid: issuer.kid })).toString('base64url');
      const payload = Buffer.from(JSON.stringify(validClaims())).toString('base64url');
      return `Bearer ${header}.${payload}.${signature(Buffer.from(`${header}.${payload}`)).toString('base64url')}`;
    };
    await expectUnauthorized(handSigned('RS512', (data) => cryptoSign('sha512', data, privateKey)));
    await expectUnauthorized(
      handSigned('PS256', (data) => cryptoSign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })),
    );
    // Control: the same hand signing with RS256 is accepted, so the rejections above are about the algorithm.
    const control = await me(handSigned('RS256', (data) => cryptoSign('sha256', data, privateKey)));
    expect(control.statusCode).toBe(200);
  });

  it('rejects a wrong issuer, a wrong audience, and a client_id for another app', async () => {
    await expectUnauthorized(`Bearer ${await sign({ ...validClaims(), iss: 'https://evil.example' })}`);
    const { iss: _iss, ...noIssuer } = validClaims();
    await expectUnauthorized(`Bearer ${await sign(noIssuer)}`);
    await expectUnauthorized(`Bearer ${await sign({ ...validClaims(), aud: 'another-api' })}`);
    const { aud: _aud, ...noAudience } = validClaims();
    await expectUnauthorized(`Bearer ${await sign(noAudience)}`);
    await expectUnauthorized(`Bearer ${await sign({ ...noAudience, client_id: 'another-app', token_use: 'access' })}`);
  });

  it('rejects an expired token, one not valid yet, and one without exp or sub', async () => {
    await expectUnauthorized(`Bearer ${await sign({ ...validClaims(), iat: now() - 7200, exp: now() - 60 })}`);
    await expectUnauthorized(`Bearer ${await sign({ ...validClaims(), nbf: now() + 600 })}`);
    const { exp: _exp, ...noExpiry } = validClaims();
    await expectUnauthorized(`Bearer ${await sign(noExpiry)}`);
    const { sub: _sub, ...noSubject } = validClaims();
    await expectUnauthorized(`Bearer ${await sign(noSubject)}`);
  });

  it('rejects an unknown kid, and a known kid signed by another key', async () => {
    const stranger = await generateKeyPair('RS256');
    await expectUnauthorized(`Bearer ${await sign(validClaims(), { kid: randomUUID() }, stranger.privateKey as CryptoKey)}`);
    await expectUnauthorized(`Bearer ${await sign(validClaims(), { kid: randomUUID() })}`);
    await expectUnauthorized(`Bearer ${await sign(validClaims(), {}, stranger.privateKey as CryptoKey)}`);
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const [header, , signature] = (await sign(validClaims())).split('.');
    const forged = Buffer.from(JSON.stringify({ ...validClaims(), 'cognito:groups': ['admin'] })).toString('base64url');
    await expectUnauthorized(`Bearer ${header}.${forged}.${signature}`);
  });

  it('rejects garbage, a missing header and other schemes', async () => {
    for (const authorization of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Bearer garbage',
      'Bearer a.b.c',
      'Bearer ....',
      `Bearer ${Buffer.from('{"alg":"RS256"}').toString('base64url')}.e30.`,
      `Bearer ${'A'.repeat(5000)}.${'B'.repeat(5000)}.${'C'.repeat(5000)}`,
      'bearer x.y.z',
      `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      `Token ${await sign(validClaims())}`,
      `Bearer ${await sign(validClaims())} extra`,
    ]) {
      await expectUnauthorized(authorization);
    }
  });
});
