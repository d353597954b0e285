/**
 * The development issuer: its key pair persists under DATA_DIR/keys (0600) and is
 * reused by the next start, its JWKS is served, and the CLI's tokens are accepted by
 * the app (in-process and as a real service). It is refused in production.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/platform/config/config.js';
import { DEV_AUDIENCE, DEV_ISSUER } from '../../../src/platform/auth/dev-issuer.js';
import { tokenVerificationFromConfig } from '../../../src/platform/auth/token-verification.js';
import { buildApp, type App } from '../../../src/entry/app.js';
import { engine, openTestDatabase, type TestDatabase } from '../../support/engine.js';
import { startService } from '../../support/service-process.js';

const run = promisify(execFile);
let dataDir: string;
let database: TestDatabase;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run cli -- token …`, the way a developer runs it. */
async function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/entry/cli/main.ts', ...args], {
      env: { ...process.env, NODE_ENV: 'development', AUTH_DEV_ISSUER: '', ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function appFor(env: Record<string, string>): Promise<App> {
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, ...env });
  const { verifyToken, devIssuer } = await tokenVerificationFromConfig(config);
  return buildApp({ config, database, logger: pino({ level: 'silent' }), verifyToken, devIssuer });
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-dev-issuer-'));
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe(`the development issuer (${engine})`, () => {
  it('is off by default and refused in production', async () => {
    expect(loadConfig({}).auth.devIssuer).toBe(false);
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_DEV_ISSUER: '1' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_DEV_ISSUER: '1' })).toThrow(/^AUTH_DEV_ISSUER: expected unset or 0 when NODE_ENV=production/);
    const off = await tokenVerificationFromConfig(loadConfig({ DATA_DIR: dataDir }));
    expect(off).toEqual({ verifyToken: undefined, devIssuer: undefined });
    const app = await appFor({});
    try {
      expect((await app.inject({ url: '/.well-known/jwks.json' })).statusCode).toBe(404);
      const res = await app.inject({ url: '/v1/me', headers: { authorization: 'Bearer a.b.c' } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'AUTH.NOT_CONFIGURED' });
    } finally {
      await app.close();
    }
  });

  it('keeps its key pair under DATA_DIR/keys (0600) and reuses it on the next start', async () => {
    const first = await tokenVerificationFromConfig(loadConfig({ DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' }));
    const second = await tokenVerificationFromConfig(loadConfig({ DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' }));
    expect(first.devIssuer?.keyFile).toBe(path.join(dataDir, 'keys', 'dev-issuer.jwk.json'));
    expect((await stat(first.devIssuer!.keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dataDir, 'keys'))).mode & 0o077).toBe(0);
    expect(second.devIssuer?.jwks).toEqual(first.devIssuer?.jwks);
    // A token from the first instance passes the second one's verifier.
    const token = await first.devIssuer!.mint({ userId: 'u-1', roles: ['creator'] });
    expect(await second.verifyToken!(token)).toEqual({ userId: 'u-1', roles: ['creator'] });
    const stored = JSON.parse(await readFile(first.devIssuer!.keyFile, 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({ kty: 'RSA', alg: 'RS256' });
    expect(typeof stored.d).toBe('string');
  });

  it('serves only the public half of its key at /.well-known/jwks.json', async () => {
    const app = await appFor({ AUTH_DEV_ISSUER: '1' });
    try {
      const res = await app.inject({ url: '/.well-known/jwks.json' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toMatch(/max-age=/);
      const jwks = res.json<JSONWebKeySet>();
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(jwks.keys[0]).not.toHaveProperty(secret);
    } finally {
      await app.close();
    }
  });

  it('mints tokens with the CLI that two app instances on the same DATA_DIR accept', async () => {
    const advertiser = randomUUID();
    const env = { DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' };
    const minted = await cli(['token', '--role', 'advertiser', '--advertiser', advertiser, '--sub', 'dev-user-1', '--ttl', '15m'], env);
    expect(minted, minted.stderr).toMatchObject({ code: 0, stderr: '' });
    const token = minted.stdout.trim();
    expect(minted.stdout).toBe(`${token}\n`); // the token alone
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: DEV_ISSUER, aud: DEV_AUDIENCE, sub: 'dev-user-1' });
    expect(claims.exp! - claims.iat!).toBe(900);

    for (let instance = 0; instance < 2; instance++) {
      const app = await appFor(env);
      try {
        const res = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toEqual({ user_id: 'dev-user-1', roles: ['advertiser'], advertiser_id: advertiser });
        // Anyone holding the served JWKS can verify the token too.
        const jwks = (await app.inject({ url: '/.well-known/jwks.json' })).json<JSONWebKeySet>();
        await expect(jwtVerify(token, createLocalJWKSet(jwks), { issuer: DEV_ISSUER, audience: DEV_AUDIENCE })).resolves.toBeTruthy();
      } finally {
        await app.close();
      }
    }

    const admin = await cli(['token', '--role', 'admin'], env);
    expect(admin.code).toBe(0);
    expect(decodeJwt(admin.stdout.trim())).toMatchObject({ 'cognito:groups': ['admin'], exp: expect.any(Number) });
    expect(decodeJwt(admin.stdout.trim())).not.toHaveProperty('custom:advertiser_id');
  });

  it('logs why a token was refused, never the token', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' });
    const { verifyToken, devIssuer } = await tokenVerificationFromConfig(config);
    const app = await buildApp({ config, database, logger, verifyToken, devIssuer });
    const otherDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-other-issuer-'));
    try {
      const other = (await tokenVerificationFromConfig(loadConfig({ DATA_DIR: otherDir, AUTH_DEV_ISSUER: '1' }))).devIssuer!;
      const foreign = await other.mint({ userId: 'u-2', roles: ['admin'] });
      const own = await devIssuer!.mint({ userId: 'u-3', roles: ['admin'] });
      const [header, payload] = own.split('.');
      const tampered = `${header}.${payload}.${foreign.split('.')[2]}`;
      for (const [token, reason] of [
        [foreign, 'no applicable key found in the JSON Web Key Set'],
        [tampered, 'signature verification failed'],
      ] as const) {
        const res = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
        expect(res.statusCode).toBe(401);
        const logged = lines.map((l) => JSON.parse(l) as { msg: string; reason?: string; level: number }).filter((l) => l.reason === reason);
        expect(logged, lines.join('')).toHaveLength(1);
        expect(logged[0]!.msg).toContain(reason);
        for (const line of lines) expect(line).not.toContain(token.split('.')[2]);
      }
    } finally {
      await app.close();
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('the CLI refuses with one line when the issuer is off, in production, or the arguments are wrong', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['token', '--role', 'admin'], { DATA_DIR: dataDir }, /development issuer is off: set AUTH_DEV_ISSUER=1/],
      [['token', '--role', 'admin'], { DATA_DIR: dataDir, NODE_ENV: 'production' }, /refused when NODE_ENV=production/],
      [['token', '--role', 'admin'], { DATA_DIR: dataDir, NODE_ENV: 'production', AUTH_DEV_ISSUER: '1' }, /^configuration error: AUTH_DEV_ISSUER/],
      [['token', '--role', 'advertiser'], { DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' }, /--role advertiser needs --advertiser/],
      [['token', '--role', 'advertiser', '--advertiser', 'acme'], { DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' }, /--advertiser must be an advertiser id/],
      [['token', '--role', 'creator', '--advertiser', randomUUID()], { DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' }, /--advertiser only goes with --role advertiser/],
      [['token', '--role', 'root'], { DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' }, /--role must be one of admin, advertiser, creator/],
      [['token', '--role', 'admin', '--ttl', 'forever'], { DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' }, /--ttl must be a duration/],
      [['token', '--role', 'admin', '--bogus'], { DATA_DIR: dataDir, AUTH_DEV_ISSUER: '1' }, /Unknown option '--bogus'/],
    ];
    const results = await Promise.all(cases.map(([args, env]) => cli(args, env)));
    results.forEach((result, i) => {
      const [, , message] = cases[i]!;
      expect(result.code, cases[i]![0].join(' ')).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    });
  });

  it('works in the real service: its JWKS is served and a CLI token gets in', async () => {
    const serviceDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-dev-service-'));
    const env: Record<string, string> = { DATA_DIR: serviceDir, AUTH_DEV_ISSUER: '1', NODE_ENV: 'development', LOG_LEVEL: 'warn' };
    let other: TestDatabase | undefined;
    if (engine === 'postgres') {
      other = await openTestDatabase();
      env.DATABASE_URL = other.url!;
    }
    const service = await startService(env, 90_000);
    try {
      const jwks = await fetch(`${service.url}/.well-known/jwks.json`);
      expect(jwks.status).toBe(200);
      const minted = await cli(['token', '--role', 'creator', '--sub', 'creator-9'], { DATA_DIR: serviceDir, AUTH_DEV_ISSUER: '1' });
      expect(minted.code, minted.stderr).toBe(0);
      const res = await fetch(`${service.url}/v1/me`, { headers: { authorization: `Bearer ${minted.stdout.trim()}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ user_id: 'creator-9', roles: ['creator'], advertiser_id: null });
      // Log lines reach stdout in batches, at least every second: wait for the line.
      const deadline = Date.now() + 15_000;
      while (!service.output().includes('development token issuer is on') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(service.output()).toContain('development token issuer is on');
    } finally {
      service.child.kill('SIGTERM');
      await Promise.race([service.exit, new Promise((r) => setTimeout(r, 15_000))]);
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
      await other?.close();
      await rm(serviceDir, { recursive: true, force: true });
    }
  });
});
