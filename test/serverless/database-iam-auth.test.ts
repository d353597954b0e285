/**
 * IAM authentication to the database (platform/db/iam-auth.ts): the pool asks its token
 * provider for the password of every new connection, and the provider signs a token once
 * and hands it out for 10 of its 15 minutes. The signer is a stub (counting its tokens):
 * there is no AWS here. The connections are real, to the local PostgreSQL, through a front
 * that demands a password as RDS Proxy does (password-front.ts), since the local server
 * asks none. The real signer is checked to sign offline with static credentials.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config/config.js';
import { openPostgres, type DatabaseHandle } from '../../src/platform/db/connect.js';
import { TOKEN_LIFETIME_MS, TOKEN_REUSE_MS, iamAuthTarget, iamTokenProvider, rdsSigner, type AuthTokenSigner, type SignerFactory } from '../../src/platform/db/iam-auth.js';
import { openPostgresDatabase } from '../events/support.js';
import type { TestDatabase } from '../support/engine.js';
import { startPasswordFront, type PasswordFront } from './password-front.js';

let postgres: TestDatabase;
let front: PasswordFront;
let clock = Date.parse('2026-12-03T12:00:00Z');
/** Tokens the stub signed, with the (test) time they were signed at. */
const signedAt = new Map<string, number>();
let signatures = 0;
const stubSigner: SignerFactory = () => ({
  async getAuthToken() {
    const token = `token-${++signatures}-${randomUUID()}`;
    signedAt.set(token, clock);
    return token;
  },
});

beforeAll(async () => {
  postgres = await openPostgresDatabase();
  const server = new URL(postgres.url!);
  // As RDS Proxy does: a token it signed less than 15 minutes ago, nothing else.
  front = await startPasswordFront({ host: server.hostname, port: Number(server.port || 5432) }, (password) => {
    const at = signedAt.get(password);
    return at !== undefined && clock - at < TOKEN_LIFETIME_MS;
  });
}, 60_000);

afterAll(async () => {
  await front?.close();
  await postgres?.close();
});

/** DATABASE_URL of the front: the user, no password. */
function frontUrl(): string {
  const url = new URL(postgres.url!);
  url.password = '';
  url.host = `127.0.0.1:${front.port}`;
  return url.toString();
}

describe('IAM authentication of the PostgreSQL pool', () => {
  it('asks the provider for every new connection, the listening one too, and signs once while the token is fresh', async () => {
    const before = signatures;
    const presented = front.passwords.length;
    const provider = iamTokenProvider(iamAuthTarget(frontUrl()), { signer: stubSigner, now: () => clock });
    let asked = 0;
    const password = () => {
      asked++;
      return provider();
    };
    const handles: DatabaseHandle[] = [];
    try {
      const handle = openPostgres({ connectionString: frontUrl(), max: 3, password });
      handles.push(handle);
      // Three queries at once: the pool opens three connections.
      const results = await Promise.all([1, 2, 3].map((n) => sql<{ n: number }>`select ${n}::int as n, pg_sleep(0.3)`.execute(handle.db)));
      expect(results.map((r) => r.rows[0]!.n)).toEqual([1, 2, 3]);
      expect(asked).toBe(3);
      const listener = await handle.listen('iam_auth_test', () => undefined, () => undefined);
      await listener.close();
      expect(asked).toBe(4);
      expect(signatures - before).toBe(1);
      const tokens = front.passwords.slice(presented);
      expect(tokens).toHaveLength(4);
      expect(new Set(tokens).size).toBe(1);

      // Past the reuse period: open connections keep working without a new token...
      clock += TOKEN_REUSE_MS + 60_000;
      await sql`select 1`.execute(handle.db);
      expect(asked).toBe(4);
      // ...and the next new connection gets a token signed now, which the front accepts.
      const second = openPostgres({ connectionString: frontUrl(), max: 1, password });
      handles.push(second);
      const { rows } = await sql<{ user: string }>`select current_user as user`.execute(second.db);
      expect(rows[0]!.user).toBe(decodeURIComponent(new URL(postgres.url!).username));
      expect(asked).toBe(5);
      expect(signatures - before).toBe(2);
      expect(front.passwords.at(-1)).not.toBe(tokens[0]);
    } finally {
      for (const h of handles) await h.close();
    }
  });

  it('a connection presented with an expired token is refused (28P01): the reuse period keeps tokens far from that', async () => {
    // A provider kept past the lifetime would present an expired token.
    const stale = iamTokenProvider(iamAuthTarget(frontUrl()), { signer: stubSigner, now: () => clock, reuseMs: 60 * 60_000 });
    await stale();
    clock += TOKEN_LIFETIME_MS;
    const handle = openPostgres({ connectionString: frontUrl(), max: 1, password: stale });
    try {
      await expect(sql`select 1`.execute(handle.db)).rejects.toMatchObject({ code: '28P01' });
    } finally {
      await handle.close();
    }
  });

  it('a signing that fails fails that connection only; the next one signs again', async () => {
    let fail = true;
    const flaky: SignerFactory = (target) => {
      const stub = stubSigner(target) as AuthTokenSigner;
      return {
        async getAuthToken() {
          if (fail) throw new Error('no credentials');
          return stub.getAuthToken();
        },
      };
    };
    const handle = openPostgres({ connectionString: frontUrl(), max: 1, password: iamTokenProvider(iamAuthTarget(frontUrl()), { signer: flaky, now: () => clock }) });
    try {
      await expect(sql`select 1`.execute(handle.db)).rejects.toThrow('no credentials');
      fail = false;
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(handle.db);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await handle.close();
    }
  });
});

describe('the token provider', () => {
  it('shares one signing among concurrent connections, reuses it for 10 minutes, then signs again', async () => {
    let now = 0;
    let made = 0;
    let signed = 0;
    const provider = iamTokenProvider({ hostname: 'proxy.example', port: 5432, username: 'nedlia' }, {
      now: () => now,
      signer: () => {
        made++;
        return { getAuthToken: async () => `t${++signed}` };
      },
    });
    expect(await Promise.all([provider(), provider(), provider()])).toEqual(['t1', 't1', 't1']);
    now += TOKEN_REUSE_MS - 1;
    expect(await provider()).toBe('t1');
    now += 1;
    expect(await provider()).toBe('t2');
    expect(made).toBe(1);
    expect(TOKEN_REUSE_MS).toBeLessThan(TOKEN_LIFETIME_MS);
  });

  it('takes the host, port and user from DATABASE_URL', () => {
    expect(iamAuthTarget('postgres://nedlia%2Bapp@proxy.example:6432/nedlia?sslmode=verify-full')).toEqual({ hostname: 'proxy.example', port: 6432, username: 'nedlia+app' });
    expect(iamAuthTarget('postgres://nedlia@proxy.example/nedlia', 'eu-west-1')).toEqual({ hostname: 'proxy.example', port: 5432, username: 'nedlia', region: 'eu-west-1' });
    expect(() => iamAuthTarget('postgres://proxy.example/nedlia')).toThrow(/user/);
  });

  it('the real signer (loaded on first use) signs a 15-minute connect token offline', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    try {
      const signer = await rdsSigner({ hostname: 'proxy.example', port: 5432, username: 'nedlia', region: 'eu-west-1' });
      const token = await signer.getAuthToken();
      const url = new URL(`https://${token}`);
      expect(url.host).toBe('proxy.example:5432');
      expect(url.searchParams.get('Action')).toBe('connect');
      expect(url.searchParams.get('DBUser')).toBe('nedlia');
      expect(url.searchParams.get('X-Amz-Expires')).toBe(String(TOKEN_LIFETIME_MS / 1000));
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/rds-db\/aws4_request$/);
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });
});

describe('DATABASE_IAM_AUTH', () => {
  it('is off by default, and on needs a DATABASE_URL with the user, no password and sslmode=verify-full', () => {
    expect(loadConfig({}).databaseIamAuth).toBe(false);
    expect(loadConfig({ DATABASE_IAM_AUTH: '1', DATABASE_URL: 'postgres://nedlia@proxy.example:5432/nedlia?sslmode=verify-full' }).databaseIamAuth).toBe(true);
    expect(() => loadConfig({ DATABASE_IAM_AUTH: '1' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_IAM_AUTH: '1', DATABASE_URL: 'postgres://nedlia@proxy.example/nedlia' })).toThrow(/sslmode=verify-full/);
    expect(() => loadConfig({ DATABASE_IAM_AUTH: '1', DATABASE_URL: 'postgres://nedlia@proxy.example/nedlia?sslmode=prefer' })).toThrow(/sslmode=verify-full/);
    expect(() => loadConfig({ DATABASE_IAM_AUTH: '1', DATABASE_URL: 'postgres://proxy.example/nedlia?sslmode=verify-full' })).toThrow(/the user/);
    let message = '';
    try {
      loadConfig({ DATABASE_IAM_AUTH: '1', DATABASE_URL: 'postgres://nedlia:s3cret@proxy.example/nedlia?sslmode=verify-full' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/no password/);
    expect(message).not.toContain('s3cret');
  });
});
