/**
 * A throwaway token issuer for tests: an RS256 key pair, its JWKS, and `mint()`
 * for any actor. The app under test verifies these tokens for real.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet } from 'jose';
import type { Actor } from '../../src/platform/events/command-context.js';

export const TEST_ISSUER = 'https://issuer.test.nedlia';
export const TEST_AUDIENCE = 'nedlia-api';

export interface TestIssuer {
  jwks: JSONWebKeySet;
  kid: string;
  privateKey: CryptoKey;
  mint(actor: Partial<Actor> & Pick<Actor, 'roles'>, overrides?: Record<string, unknown>): Promise<string>;
}

export async function createTestIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    jwks: { keys: [jwk] },
    kid,
    privateKey: privateKey as CryptoKey,
    async mint(actor, overrides = {}) {
      const claims: Record<string, unknown> = {
        'cognito:groups': actor.roles,
        ...(actor.advertiserId ? { 'custom:advertiser_id': actor.advertiserId } : {}),
        ...overrides,
      };
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid })
        .setSubject(actor.userId ?? randomUUID())
        .setIssuer(TEST_ISSUER)
        .setAudience(TEST_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey);
    },
  };
}
