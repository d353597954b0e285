/**
 * IAM authentication to PostgreSQL on AWS (RDS Proxy, Aurora, RDS): instead of a stored
 * password, each new connection presents an RDS auth token, a SigV4-presigned request
 * signed with the process's AWS credentials (on Lambda, the function's role), valid for
 * 15 minutes. The server checks it against `rds-db:connect` for the user.
 *
 * - `DATABASE_IAM_AUTH=1` with a `DATABASE_URL` that names the user but no password and
 *   requires TLS (`sslmode=verify-full`): the token travels as a cleartext password, so
 *   the configuration refuses IAM authentication without TLS (config.ts).
 * - pg asks for the password (`password` function of the pool) once per new connection;
 *   the token is signed once and reused for 10 minutes, then signed again, so no
 *   connection is ever opened with a token close to its expiry. An open connection is not
 *   affected by its token expiring; a signing that fails is not remembered.
 * - The signer (@aws-sdk/rds-signer) is loaded on the first signing only, so a process
 *   without IAM authentication never loads it.
 */
import { parse } from 'pg-connection-string';
import type pg from 'pg';

/** Where the token lets a user in: the host and port the client connects to. */
export interface IamAuthTarget {
  hostname: string;
  port: number;
  username: string;
  /** The SDK's own resolution (AWS_REGION) when absent. */
  region?: string;
}

export interface AuthTokenSigner {
  getAuthToken(): Promise<string>;
}

/** Makes the signer of a target; the default loads @aws-sdk/rds-signer. */
export type SignerFactory = (target: IamAuthTarget) => AuthTokenSigner | Promise<AuthTokenSigner>;

/** How long RDS accepts a token (ms). */
export const TOKEN_LIFETIME_MS = 15 * 60_000;
/** How long a signed token is handed to new connections (ms): well inside its lifetime. */
export const TOKEN_REUSE_MS = 10 * 60_000;

export const rdsSigner: SignerFactory = async (target) => {
  const { Signer } = await import('@aws-sdk/rds-signer');
  return new Signer(target);
};

/** The host, port and user of a `postgres://` URL, for its auth tokens. */
export function iamAuthTarget(connectionString: string, region?: string): IamAuthTarget {
  const url = new URL(connectionString);
  const username = decodeURIComponent(url.username);
  if (!url.hostname || !username) throw new Error('IAM authentication needs the host and the user in DATABASE_URL');
  return { hostname: url.hostname, port: Number(url.port || 5432), username, ...(region ? { region } : {}) };
}

export interface TokenProviderOptions {
  signer?: SignerFactory;
  /** Clock (ms since the epoch); tests move it. */
  now?: () => number;
  reuseMs?: number;
}

/** The `password` function of a pool: a token signed at most once per `reuseMs`, shared by concurrent connections. */
export function iamTokenProvider(target: IamAuthTarget, options: TokenProviderOptions = {}): () => Promise<string> {
  const makeSigner = options.signer ?? rdsSigner;
  const now = options.now ?? Date.now;
  const reuseMs = options.reuseMs ?? TOKEN_REUSE_MS;
  let signer: Promise<AuthTokenSigner> | undefined;
  let current: { token: Promise<string>; signedAt: number } | undefined;
  return () => {
    if (current && now() - current.signedAt < reuseMs) return current.token;
    const signedAt = now();
    const token = (async () => {
      signer ??= Promise.resolve(makeSigner(target)).catch((error: unknown) => {
        signer = undefined;
        throw error;
      });
      return (await signer).getAuthToken();
    })();
    const entry = { token, signedAt };
    current = entry;
    token.catch(() => {
      if (current === entry) current = undefined;
    });
    return token;
  };
}

/**
 * What pg takes to connect: the URL as it is, or, with a password function, its parts and the
 * function (pg would otherwise let the URL's empty password override the function).
 */
export function connectionConfig(connectionString: string, password?: () => Promise<string>): pg.ClientConfig {
  if (!password) return { connectionString };
  return { ...(parse(connectionString) as pg.ClientConfig), password };
}
