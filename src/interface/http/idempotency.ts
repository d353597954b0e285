/**
 * `Idempotency-Key` on POST (API.md): the first request with a key claims it for
 * its caller, runs, and its response (status, body, a few headers) is stored and
 * replayed for 24 h. The same key with another body (or route) is 422; a request
 * while the first is still running is 409. A 5xx is not stored: the key is freed so
 * that the caller can retry.
 *
 * Known limit: the response is stored just after the command commits, not in its
 * transaction; if the process dies in between, the key stays claimed (409) until
 * it expires, so the command is still never run twice.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { DomainError } from '../../domain/errors.js';
import type { DatabaseHandle } from '../../infrastructure/db/connect.js';
import { claimKey, completeKey, releaseKey } from '../../infrastructure/db/repositories/idempotency-key-repository.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
const REPLAYED_HEADERS = ['content-type', 'etag', 'location'];
const KEY = /^[\x21-\x7e]{1,255}$/;

interface Claimed {
  caller: string;
  key: string;
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

export const idempotency = fp<{ database: DatabaseHandle }>(
  async (app, { database }) => {
    const claims = new WeakMap<FastifyRequest, Claimed>();
    const { db } = database;

    const claimOrReplay = async (request: FastifyRequest, reply: FastifyReply) => {
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
      const claim = await claimKey(db, caller, key, hash, IDEMPOTENCY_TTL_MS);
      if (claim.claimed) {
        claims.set(request, { caller, key, settled: false });
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
      try {
        if (reply.statusCode >= 500) {
          await releaseKey(db, claim.caller, claim.key);
        } else {
          const headers: Record<string, string> = {};
          for (const name of REPLAYED_HEADERS) {
            const value = reply.getHeader(name);
            if (value !== undefined) headers[name] = String(value);
          }
          await completeKey(db, claim.caller, claim.key, { status: reply.statusCode, headers, body: typeof payload === 'string' ? payload : '' });
        }
      } catch (error) {
        // The key stays claimed (409 until it expires) rather than freed: the command may have committed.
        request.log.error({ err: error }, 'could not record the idempotent response');
      }
      return payload;
    };

    // The response never got sent (client gone, stream error): free the key for a retry.
    const releaseUnsent = async (request: FastifyRequest) => {
      const claim = claims.get(request);
      if (claim && !claim.settled) await releaseKey(db, claim.caller, claim.key).catch(() => undefined);
    };

    // Attached to POST routes only, so other requests pay nothing for it.
    app.addHook('onRoute', (route) => {
      if (![route.method].flat().includes('POST')) return;
      const hooks = route as unknown as Record<'preHandler' | 'onSend' | 'onResponse', unknown>;
      hooks.preHandler = [...[hooks.preHandler ?? []].flat(), claimOrReplay];
      hooks.onSend = [...[hooks.onSend ?? []].flat(), record];
      hooks.onResponse = [...[hooks.onResponse ?? []].flat(), releaseUnsent];
    });
  },
  { name: 'idempotency', dependencies: ['authentication'] },
);
