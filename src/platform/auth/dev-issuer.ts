/**
 * The development token issuer: one RS256 key pair kept under `DATA_DIR/keys/`,
 * made on first use and reused after restarts, so tokens minted by the CLI stay
 * valid while the service restarts. The service serves the public half at
 * `GET /.well-known/jwks.json` and verifies these tokens like any other issuer's.
 * It exists for local work only: configuration refuses it in production.
 *
 * RS256 rather than ES256 because verifying (every request) is several times
 * cheaper with RSA; signing (once per minted token) is the slow side.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import type { Actor } from './actor.js';

/** The `iss` of development tokens: a name, not a location (the JWKS is on the service itself). */
export const DEV_ISSUER = 'urn:nedlia:dev-issuer';
/** The `aud` of development tokens. */
export const DEV_AUDIENCE = 'nedlia-api';
export const DEV_ALGORITHM = 'RS256';
export const DEV_KEY_FILE = 'dev-issuer.jwk.json';

export interface DevIssuer {
  issuer: string;
  audience: string;
  /** Where the private key lives. */
  keyFile: string;
  /** The public key set that verifies this issuer's tokens. */
  jwks: JSONWebKeySet;
  mint(actor: Actor, options?: { ttlSeconds?: number }): Promise<string>;
}

interface StoredKey extends JWK {
  kid: string;
}

async function readKey(file: string): Promise<StoredKey | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const key = JSON.parse(text) as StoredKey;
  if (key.kty !== 'RSA' || typeof key.d !== 'string' || typeof key.kid !== 'string') {
    throw new Error(`${file} is not an RSA private key of the development issuer: delete it to make a new one`);
  }
  return key;
}

/** Reads the key pair, or makes it when there is none yet (mode 0600, in a 0700 folder). */
async function loadOrCreateKey(dir: string, create: boolean): Promise<{ file: string; key: StoredKey }> {
  const file = path.join(dir, DEV_KEY_FILE);
  if (!create) {
    const existing = await readKey(file);
    if (existing) return { file, key: existing };
    throw new DevIssuerKeyMissingError(file);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = await readKey(file);
  if (existing) return { file, key: existing };
  const { privateKey } = await generateKeyPair(DEV_ALGORITHM, { modulusLength: 2048, extractable: true });
  const key: StoredKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: DEV_ALGORITHM, use: 'sig' };
  try {
    // `wx`: when two processes start at once, the first key written wins and both use it.
    await writeFile(file, `${JSON.stringify(key)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readKey(file);
    if (winner) return { file, key: winner };
    throw error;
  }
  return { file, key };
}

/** `openDevIssuer(dir, { create: false })` found no key: nothing would accept what it signed. */
export class DevIssuerKeyMissingError extends Error {
  constructor(readonly keyFile: string) {
    super(`the development issuer has no key in ${keyFile}`);
    this.name = 'DevIssuerKeyMissingError';
  }
}

/**
 * Opens (and on first use creates) the development issuer of `dataDir`; with
 * `create: false` a missing key is a `DevIssuerKeyMissingError` instead.
 */
export async function openDevIssuer(dataDir: string, { create = true }: { create?: boolean } = {}): Promise<DevIssuer> {
  const { file, key } = await loadOrCreateKey(path.join(dataDir, 'keys'), create);
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = key;
  const signingKey = await importJWK(key, DEV_ALGORITHM);
  return {
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    keyFile: file,
    jwks: { keys: [publicJwk] },
    async mint(actor, { ttlSeconds = 3600 } = {}) {
      return new SignJWT({
        'cognito:groups': [...actor.roles],
        ...(actor.advertiserId ? { 'custom:advertiser_id': actor.advertiserId } : {}),
        token_use: 'id',
      })
        .setProtectedHeader({ alg: DEV_ALGORITHM, kid: key.kid, typ: 'JWT' })
        .setSubject(actor.userId)
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(signingKey);
    },
  };
}
