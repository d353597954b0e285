/**
 * Idempotency keys of POST requests (migration 0002). `claimKey` is the atomic
 * step: it inserts the key as in progress, or takes over an expired one, or
 * returns what is already stored for it.
 */
import { sql, type Selectable } from 'kysely';
import type { IdempotencyKeysTable } from '../schema.js';
import type { Executor } from './placement-repository.js';

export type IdempotencyKeyRow = Selectable<IdempotencyKeysTable>;

export type Claim = { claimed: true } | { claimed: false; existing: IdempotencyKeyRow };

export async function claimKey(db: Executor, caller: string, key: string, requestHash: string, ttlMs: number, attempt = 1): Promise<Claim> {
  const expiresAt = new Date(Date.now() + ttlMs);
  const taken = await sql<{ key: string }>`
    INSERT INTO idempotency_keys (caller, key, request_hash, expires_at)
    VALUES (${caller}, ${key}, ${requestHash}, ${expiresAt})
    ON CONFLICT (caller, key) DO UPDATE
      SET request_hash = EXCLUDED.request_hash, status = NULL, response_headers = NULL, response_body = NULL,
          created_at = NOW(), expires_at = EXCLUDED.expires_at
      WHERE idempotency_keys.expires_at < NOW()
    RETURNING key`.execute(db);
  if (taken.rows.length > 0) return { claimed: true };
  const existing = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('caller', '=', caller)
    .where('key', '=', key)
    .executeTakeFirst();
  // Deleted between the two statements (a failed first attempt): let the caller retry.
  if (!existing) {
    if (attempt >= 3) throw new Error(`idempotency key ${key} keeps disappearing`);
    return claimKey(db, caller, key, requestHash, ttlMs, attempt + 1);
  }
  return { claimed: false, existing };
}

export async function completeKey(
  db: Executor,
  caller: string,
  key: string,
  response: { status: number; headers: Record<string, string>; body: string },
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status: response.status, response_headers: JSON.stringify(response.headers), response_body: response.body })
    .where('caller', '=', caller)
    .where('key', '=', key)
    .execute();
}

/** Forgets an in-progress key (its request failed), so that a retry may run. */
export async function releaseKey(db: Executor, caller: string, key: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('caller', '=', caller).where('key', '=', key).where('status', 'is', null).execute();
}

/** Deletes expired keys; returns how many. */
export async function purgeExpiredKeys(db: Executor): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('expires_at', '<', new Date()).executeTakeFirst();
  return Number(result.numDeletedRows);
}
