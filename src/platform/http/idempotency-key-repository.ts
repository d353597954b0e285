/**
 * Idempotency keys of POST requests (migrations 0002 and 0005). `claimKey` is the
 * atomic step: it inserts the key as in progress under a new random claim id, or
 * takes over an expired key or a stale claim, or returns what is already stored for
 * it. `completeKey` and `releaseKey` act only while the row still holds the claim
 * id they are given, so a claimant that was taken over can neither overwrite nor
 * free the key of the request that took it.
 */
import { randomUUID } from 'node:crypto';
import { CompiledQuery, type Selectable } from 'kysely';
import { preparedStatement } from '../db/prepared-statements.js';
import type { IdempotencyKeysTable } from '../db/schema.js';
import type { Executor } from '../db/schema.js';

export type IdempotencyKeyRow = Selectable<IdempotencyKeysTable>;

export type Claim = { claimed: true; claimId: string } | { claimed: false; existing: IdempotencyKeyRow };

export interface ClaimOptions {
  /** How long the key is kept (from this claim). */
  ttlMs: number;
  /**
   * An in-progress claim of the same request older than this may be taken over.
   * Omitted: an in-progress key is never taken over before it expires.
   */
  leaseMs?: number;
  /** The claimed request's command runs in a transaction opened after the claim, which commits it (see below). */
  leadsIntoCommand?: boolean;
}

/** `completeKey` found the key held by another claim: its response was not stored. */
export class ClaimLostError extends Error {
  constructor(
    readonly caller: string,
    readonly key: string,
  ) {
    super(`idempotency key ${key} of ${caller} is no longer held by this claim`);
    this.name = 'ClaimLostError';
  }
}

/**
 * The claim, as one statement with fixed SQL (a prepared statement). It inserts the
 * key, or takes over an expired key, or (`$6` seconds given) a stale in-progress claim
 * of the same request; both times are the database's (created_at is set by NOW()), so
 * clocks of different processes do not matter.
 *
 * A claim that leads into a command's transaction commits without waiting for its
 * WAL flush (`synchronous_commit` off for this statement's own transaction only): the
 * command's commit, which does wait, flushes the WAL up to itself and so the claim
 * with it. A crash can lose only a claim whose command never committed, and a lost
 * claim is a free key, which is what a retry needs anyway. Claims of routes whose
 * command commits elsewhere (no shared transaction) keep a durable commit of their own.
 */
const claimSql = (durable: boolean) => `
  INSERT INTO idempotency_keys (caller, key, request_hash, claim_id, expires_at)
  SELECT $1::text, $2::text, $3::text, $4::uuid, $5::timestamptz
  ${durable ? '' : "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS claim_commit"}
  ON CONFLICT (caller, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, claim_id = EXCLUDED.claim_id, status = NULL, response_headers = NULL,
        response_body = NULL, created_at = NOW(), expires_at = EXCLUDED.expires_at
    WHERE idempotency_keys.expires_at < NOW()
       OR ($6::float8 IS NOT NULL
           AND idempotency_keys.status IS NULL
           AND idempotency_keys.request_hash = EXCLUDED.request_hash
           AND idempotency_keys.created_at < NOW() - make_interval(secs => $6::float8))
  RETURNING key`;
const CLAIM = preparedStatement('idempotency_claim', CompiledQuery.raw(claimSql(true), []));
const CLAIM_BEFORE_COMMAND = preparedStatement('idempotency_claim_before_command', CompiledQuery.raw(claimSql(false), []));

export async function claimKey(db: Executor, caller: string, key: string, requestHash: string, options: ClaimOptions, attempt = 1): Promise<Claim> {
  const claimId = randomUUID();
  const expiresAt = new Date(Date.now() + options.ttlMs).toISOString();
  // Inside a caller's transaction the setting would reach that transaction's commit: only on its own.
  const statement = options.leadsIntoCommand && !db.isTransaction ? CLAIM_BEFORE_COMMAND : CLAIM;
  const taken = await db.executeQuery<{ key: string }>({
    ...statement,
    parameters: [caller, key, requestHash, claimId, expiresAt, options.leaseMs === undefined ? null : options.leaseMs / 1000],
  });
  if (taken.rows.length > 0) return { claimed: true, claimId };
  const existing = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('caller', '=', caller)
    .where('key', '=', key)
    .executeTakeFirst();
  // Deleted between the two statements (a failed first attempt): let the caller retry.
  if (!existing) {
    if (attempt >= 3) throw new Error(`idempotency key ${key} keeps disappearing`);
    return claimKey(db, caller, key, requestHash, options, attempt + 1);
  }
  return { claimed: false, existing };
}

/**
 * Stores the response of the request holding `claimId`. Throws `ClaimLostError`
 * when the key is no longer held by that claim (taken over, or released): inside
 * the command's transaction, that rolls the command back.
 */
export async function completeKey(
  db: Executor,
  caller: string,
  key: string,
  claimId: string,
  response: { status: number; headers: Record<string, string>; body: string },
): Promise<void> {
  const result = await db
    .updateTable('idempotency_keys')
    .set({ status: response.status, response_headers: JSON.stringify(response.headers), response_body: response.body })
    .where('caller', '=', caller)
    .where('key', '=', key)
    .where('claim_id', '=', claimId)
    .where('status', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new ClaimLostError(caller, key);
}

/** Forgets an in-progress key (its request failed) if `claimId` still holds it, so that a retry may run. */
export async function releaseKey(db: Executor, caller: string, key: string, claimId: string): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('caller', '=', caller)
    .where('key', '=', key)
    .where('claim_id', '=', claimId)
    .where('status', 'is', null)
    .execute();
}

/** Deletes expired keys; returns how many. */
export async function purgeExpiredKeys(db: Executor): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('expires_at', '<', new Date()).executeTakeFirst();
  return Number(result.numDeletedRows);
}
