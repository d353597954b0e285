/**
 * `Idempotency-Key` on POST (API.md): the first request with a key claims it for
 * its caller, runs, and its response (status, body, a few headers) is stored and
 * replayed for 24 h. The same key with another body (or route) is 422; a request
 * while the first is still running is 409. A 5xx is not stored: the key is freed so
 * that the caller can retry.
 *
 * Atomic completion. On a route that declares the `idempotency-key` header (the
 * catalog creates), a successful claim opens a transaction, exposed as
 * `request.idempotencyTransaction`; `commandOf` hands it to the use case, which runs
 * its writes in it instead of opening its own. A 2xx/3xx response is stored in that
 * same transaction, which then commits: the command's writes and its stored
 * response commit together or not at all. After any crash a key is therefore either
 * completed (and replayed) or its command left no trace. A 4xx rolls the
 * transaction back and is then stored; a 5xx rolls back and frees the key. If the
 * commit fails, the key is freed and the answer is 5xx. A client that goes away
 * before its response is stored has its transaction rolled back and its key freed.
 * While the transaction is open nothing in the request may use the plain database
 * handle: on PGlite, one session lent to one transaction at a time, that would wait
 * forever.
 *
 * Stale claims. A crash leaves the claim (committed before the command started) in
 * progress, answering 409. Once it is older than `IDEMPOTENCY_LEASE_MS` the same
 * request may claim the key again. Every claim has a random `claim_id`; the
 * response is stored only while the row still holds the claim that ran the command,
 * so a claimant that outlived its lease and was taken over fails to store its
 * response, its transaction rolls back and it answers 409: the command still runs
 * once. The lease must stay well above the longest time a POST can run.
 *
 * POST routes that do not declare the header (the admin dead-letter actions, which
 * publish to the bus and cannot share the transaction) keep storing the response
 * after their own commit; their in-progress keys are never taken over, only expire,
 * so their command is never run twice.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { ControlledTransaction, Kysely } from 'kysely';
import { DomainError } from '../errors.js';
import type { DatabaseHandle } from '../db/connect.js';
import { ClaimLostError, claimKey, completeKey, releaseKey } from './idempotency-key-repository.js';
import type { Database } from '../db/schema.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * How long an in-progress claim is trusted: after it, the process that made it is
 * presumed dead and the same request may claim the key again. 5 minutes is far
 * beyond any POST of this API (requests are bounded by the database's and the
 * load balancer's timeouts) and short enough for clients that retry after a crash.
 */
export const IDEMPOTENCY_LEASE_MS = 5 * 60 * 1000;
const REPLAYED_HEADERS = ['content-type', 'etag', 'location'];
const KEY = /^[\x21-\x7e]{1,255}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The transaction the command of this request runs in: set while an
     * idempotent POST holds its key (see idempotency.ts), null otherwise.
     */
    idempotencyTransaction: Kysely<Database> | null;
  }
}

interface Claimed {
  caller: string;
  key: string;
  claimId: string;
  /** The command's transaction (routes that declare the header), finished when the claim settles. */
  trx: ControlledTransaction<Database> | null;
  /** Set, synchronously, by whichever of onSend and the fallbacks decides the outcome first. */
  settled: boolean;
}

/** Stable JSON: object keys sorted, so `{a,b}` and `{b,a}` hash the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function requestHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.routeOptions.url ?? request.url}\n${canonical(request.params)}\n${canonical(request.body)}`)
    .digest('hex');
}

/** A route that documents `Idempotency-Key` runs its command in the key's transaction (through `commandOf`). */
function declaresKey(route: RouteOptions): boolean {
  const headers = route.schema?.headers as { properties?: Record<string, unknown> } | undefined;
  return headers?.properties?.['idempotency-key'] !== undefined;
}

export const idempotency = fp<{ database: DatabaseHandle }>(
  async (app, { database }) => {
    const claims = new WeakMap<FastifyRequest, Claimed>();
    const { db } = database;

    app.decorateRequest('idempotencyTransaction', null);

    const rollback = async (request: FastifyRequest, trx: ControlledTransaction<Database> | null) => {
      request.idempotencyTransaction = null;
      if (!trx || trx.isCommitted || trx.isRolledBack) return;
      // Waits for a query in flight; later queries on the transaction fail. The connection is released either way.
      await trx.rollback().execute().catch((error: unknown) => request.log.error({ err: error }, 'could not roll back the idempotent command'));
    };

    const release = (request: FastifyRequest, claim: Claimed) =>
      releaseKey(db, claim.caller, claim.key, claim.claimId).catch((error: unknown) =>
        request.log.error({ err: error }, 'could not free the idempotency key'),
      );

    const claimOrReplay = (transactional: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers['idempotency-key'];
      if (header === undefined || !request.actor) return;
      const key = String(header);
      if (!KEY.test(key)) {
        throw new DomainError('invalid', 'IDEMPOTENCY.INVALID_KEY', 'Idempotency-Key must be 1 to 255 visible ASCII characters', [
          { path: '/headers/idempotency-key', message: 'must be 1 to 255 visible ASCII characters' },
        ]);
      }
      const caller = request.actor.userId;
      const hash = requestHash(request);
      const claim = await claimKey(db, caller, key, hash, { ttlMs: IDEMPOTENCY_TTL_MS, ...(transactional ? { leaseMs: IDEMPOTENCY_LEASE_MS, leadsIntoCommand: true } : {}) });
      if (claim.claimed) {
        const claimed: Claimed = { caller, key, claimId: claim.claimId, trx: null, settled: false };
        if (transactional) {
          try {
            claimed.trx = await db.startTransaction().execute();
          } catch (error) {
            await release(request, claimed);
            throw error;
          }
          request.idempotencyTransaction = claimed.trx;
        }
        claims.set(request, claimed);
        if (claimed.trx) {
          // The client goes away before its response is complete: roll the command back and free the key.
          // (onRequestAbort does not fire once the body has been read, as it has here.)
          const response = reply.raw;
          response.once('close', () => {
            if (!response.writableFinished) void abandon(request);
          });
          if (response.destroyed) await abandon(request);
        }
        return;
      }
      const existing = claim.existing;
      if (existing.request_hash !== hash) {
        throw new DomainError('invalid', 'IDEMPOTENCY.KEY_REUSED', 'this Idempotency-Key was used with another request: use a new key', [
          { path: '/headers/idempotency-key', message: 'was used with a different body or route' },
        ]);
      }
      if (existing.status === null) {
        throw new DomainError('conflict', 'IDEMPOTENCY.IN_PROGRESS', 'a request with this Idempotency-Key is still running: retry shortly');
      }
      reply.code(existing.status).headers({ ...(existing.response_headers ?? {}), 'idempotent-replayed': 'true' });
      // A string is sent as it is: the stored body is already serialized.
      return reply.send(existing.response_body ?? '');
    };

    const record = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const claim = claims.get(request);
      if (!claim || claim.settled) return payload;
      claim.settled = true;
      const status = reply.statusCode;
      const headers: Record<string, string> = {};
      for (const name of REPLAYED_HEADERS) {
        const value = reply.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      const response = { status, headers, body: typeof payload === 'string' ? payload : '' };

      const { trx } = claim;
      if (trx && status < 400) {
        try {
          await completeKey(trx, claim.caller, claim.key, claim.claimId, response);
          await trx.commit().execute();
          request.idempotencyTransaction = null;
          return payload;
        } catch (error) {
          // Not committed (or, if the commit failed on the way back, committed with the key completed,
          // which the release below leaves alone): the command left no trace, free the key for a retry.
          await rollback(request, trx);
          await release(request, claim);
          reply.removeHeader('etag');
          reply.removeHeader('location');
          if (error instanceof ClaimLostError) {
            throw new DomainError('conflict', 'IDEMPOTENCY.IN_PROGRESS', 'a request with this Idempotency-Key is still running: retry shortly');
          }
          throw error;
        }
      }
      // An error: the command's writes are undone before the outcome is stored on the plain database.
      await rollback(request, trx);
      try {
        if (status >= 500) await releaseKey(db, claim.caller, claim.key, claim.claimId);
        else await completeKey(db, claim.caller, claim.key, claim.claimId, response);
      } catch (error) {
        request.log.error({ err: error }, 'could not record the idempotent response');
        // The command's transaction was rolled back: nothing to protect, free the key. Without one the
        // command may have committed: the key stays claimed (409 until it expires).
        if (trx) await release(request, claim);
      }
      return payload;
    };

    // The response was not recorded: the client went away before it, or it was sent without the onSend
    // hooks (a hijacked reply). Roll the command's transaction back, so that it never keeps its connection
    // (on PGlite, the only session), then free the key.
    const abandon = async (request: FastifyRequest): Promise<void> => {
      const claim = claims.get(request);
      if (!claim || claim.settled) return;
      claim.settled = true;
      await rollback(request, claim.trx);
      await release(request, claim);
    };

    // Attached to POST routes only, so other requests pay nothing for it.
    app.addHook('onRoute', (route) => {
      if (![route.method].flat().includes('POST')) return;
      const hooks = route as unknown as Record<'preHandler' | 'onSend' | 'onResponse', unknown>;
      hooks.preHandler = [...[hooks.preHandler ?? []].flat(), claimOrReplay(declaresKey(route))];
      hooks.onSend = [...[hooks.onSend ?? []].flat(), record];
      hooks.onResponse = [...[hooks.onResponse ?? []].flat(), abandon];
    });
  },
  { name: 'idempotency', dependencies: ['authentication'] },
);
