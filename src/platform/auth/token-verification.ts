/**
 * Token verification as configured: the external issuer (`AUTH_JWKS_URL`,
 * `AUTH_ISSUER`, `AUTH_AUDIENCE`), the development issuer (`AUTH_DEV_ISSUER=1`),
 * both, or neither (then every protected route answers 401).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decodeJwt, type JSONWebKeySet } from 'jose';
import { ConfigError, type Config } from '../config/config.js';
import { DEV_AUDIENCE, openDevIssuer, type DevIssuer } from './dev-issuer.js';
import { createJwtVerifier, type TokenVerifier } from './jwt-verifier.js';
import { withVerifiedTokenCache } from './verified-token-cache.js';

export interface TokenVerification {
  verifyToken: TokenVerifier | undefined;
  /** Present when the development issuer is on: the service serves its JWKS. */
  devIssuer: DevIssuer | undefined;
}

/** A `file:` key set is read once, at start; an `https:` one is fetched and cached by jose. */
export async function keySetOf(jwksUrl: string): Promise<URL | JSONWebKeySet> {
  const url = new URL(jwksUrl);
  if (url.protocol !== 'file:') return url;
  try {
    const set = JSON.parse(await readFile(fileURLToPath(url), 'utf8')) as JSONWebKeySet;
    if (!set || !Array.isArray(set.keys) || set.keys.length === 0) throw new Error('it has no "keys"');
    return set;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError('AUTH_JWKS_URL', `a readable JSON Web Key Set file (${reason})`, jwksUrl);
  }
}

/**
 * One verifier over several issuers. The token's unverified `iss` only chooses
 * whose keys and rules check it; a token claiming an unknown issuer is checked
 * by the first one and fails there.
 */
export function verifierForIssuers(verifiers: ReadonlyMap<string, TokenVerifier>): TokenVerifier | undefined {
  const all = [...verifiers.values()];
  const first = all[0];
  if (!first || all.length === 1) return first;
  return async (token) => {
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      // not a JWT: the first verifier rejects it with the usual 401
    }
    return ((issuer !== undefined && verifiers.get(issuer)) || first)(token);
  };
}

export async function tokenVerificationFromConfig(config: Config): Promise<TokenVerification> {
  const verifiers = new Map<string, TokenVerifier>();
  const { jwksUrl, issuer, audience } = config.auth;
  if (jwksUrl && issuer && audience) {
    verifiers.set(issuer, createJwtVerifier({ jwks: await keySetOf(jwksUrl), issuer, audience }));
  }
  let devIssuer: DevIssuer | undefined;
  if (config.auth.devIssuer) {
    devIssuer = await openDevIssuer(config.dataDir);
    verifiers.set(devIssuer.issuer, createJwtVerifier({ jwks: devIssuer.jwks, issuer: devIssuer.issuer, audience: DEV_AUDIENCE }));
  }
  const verifyToken = verifierForIssuers(verifiers);
  return { verifyToken: verifyToken && withVerifiedTokenCache(verifyToken), devIssuer };
}
