/**
 * How a CLI command reaches the data. With `DATABASE_URL`, or an embedded `DATA_DIR`
 * that no process holds, it opens the database itself (holding the directory's lock
 * while it runs). When a running service holds the directory, opening it would corrupt
 * it: the command goes through that service's HTTP API instead, with tokens of the
 * development issuer whose key is in the same `DATA_DIR`.
 */
import type { Actor } from '../../platform/events/command-context.js';
import type { Config } from '../../platform/config/config.js';
import { DevIssuerKeyMissingError, openDevIssuer } from '../../platform/auth/dev-issuer.js';
import type { DatabaseHandle } from '../../platform/db/connect.js';
import { DataDirInUseError, type LockHolder } from '../../platform/db/data-dir-lock.js';
import { connectDatabase } from '../../platform/db/open-database.js';

/** The HTTP API of the service that holds `DATA_DIR`. */
export interface RunningService {
  holder: LockHolder;
  /** Sends a request as `actor`; answers the parsed JSON body, or throws the problem's title and detail. */
  request<T>(method: 'GET' | 'POST', path: string, actor: Actor, body?: unknown): Promise<T>;
}

export type DataAccess = { kind: 'local'; handle: DatabaseHandle } | { kind: 'service'; service: RunningService };

/**
 * Opens the database for `command` (its words, as the lock file shows them), or finds the
 * service holding it. `open` connects (a migrating open for commands that write).
 */
export async function dataAccess(
  config: Config,
  command: string,
  open: (config: Config, options: { owner: { command: string } }) => Promise<DatabaseHandle> = connectDatabase,
): Promise<DataAccess> {
  try {
    return { kind: 'local', handle: await open(config, { owner: { command } }) };
  } catch (error) {
    if (!(error instanceof DataDirInUseError) || !error.holder.apiUrl) throw error;
    return { kind: 'service', service: await serviceOf(config, error.holder) };
  }
}

async function serviceOf(config: Config, holder: LockHolder): Promise<RunningService> {
  const apiUrl = holder.apiUrl as string;
  const refuse = (why: string) =>
    new Error(`the service at ${apiUrl} (process ${holder.pid}) holds DATA_DIR=${config.dataDir}; ${why}`);
  if (!holder.devIssuer) {
    throw refuse('this command reaches it with development tokens, which it refuses: restart it with AUTH_DEV_ISSUER=1, or stop it to run the command on the directory');
  }
  const issuer = await openDevIssuer(config.dataDir, { create: false }).catch((error: unknown) => {
    if (error instanceof DevIssuerKeyMissingError) throw refuse(`its development issuer key ${error.keyFile} is missing`);
    throw error;
  });
  return {
    holder,
    async request<T>(method: 'GET' | 'POST', path: string, actor: Actor, body?: unknown): Promise<T> {
      const token = await issuer.mint(actor, { ttlSeconds: 300 });
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(new URL(path, apiUrl), {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (error) {
        throw refuse(`it does not answer (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`);
      }
      const text = await response.text();
      const parsed = text ? (JSON.parse(text) as unknown) : undefined;
      if (!response.ok) {
        const problem = (parsed ?? {}) as { title?: string; detail?: string; code?: string };
        throw new Error(`${method} ${path}: ${response.status} ${problem.title ?? response.statusText}${problem.detail ? `: ${problem.detail}` : ''}`);
      }
      return parsed as T;
    },
  };
}
