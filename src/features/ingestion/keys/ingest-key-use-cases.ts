/**
 * Ingest keys: create (shown once), list, revoke, and the check of a key sent in
 * `x-nedlia-key`. Checked keys are remembered for 5 s per process (a revocation in this
 * process takes effect at once, in others within 5 s); a key is never stored, only its hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Database } from '../../../platform/db/schema.js';
import type { Actor } from '../../../platform/auth/actor.js';
import { DomainError, notFound } from '../../../platform/errors.js';
import type { Page, PageRequest } from '../../../platform/db/keyset-page.js';
import { KEY_PREFIX, SHOWN_PREFIX_LENGTH, keyOwnerFor, looksLikeKey, mayManageKeysOf } from './ingest-key-rules.js';
import type { CreatedIngestKey, IngestKey, KeyHolder } from './ingest-key-model.js';
import * as repo from './ingest-key-repository.js';

export interface KeyDeps {
  db: Kysely<Database>;
  keyCache: KeyCache;
}

const KEY_CACHE_TTL_MS = 5_000;

/** Checked keys by hash: the holder, or null for an unknown or revoked key. */
export class KeyCache {
  readonly #entries = new LRUCache<string, { holder: KeyHolder | null }>({ max: 10_000, ttl: KEY_CACHE_TTL_MS });
  get(hash: string): KeyHolder | null | undefined {
    return this.#entries.get(hash)?.holder;
  }
  set(hash: string, holder: KeyHolder | null): void {
    this.#entries.set(hash, { holder });
  }
  dropKey(keyId: string): void {
    for (const [hash, entry] of this.#entries.entries()) if (entry.holder?.keyId === keyId) this.#entries.delete(hash);
  }
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

const forbidden = (what: string) => new DomainError('forbidden', 'ACCESS.FORBIDDEN', `your role may not ${what}`);

export async function createIngestKey(deps: KeyDeps, actor: Actor, input: { name?: string; creator_id?: string }): Promise<CreatedIngestKey> {
  const owner = keyOwnerFor(actor, input.creator_id);
  if ('error' in owner) {
    if (owner.error === 'forbidden') throw forbidden('create ingest keys (creators and admins may)');
    throw new DomainError('invalid', 'INGEST_KEY.CREATOR_REQUIRED', 'an admin names the creator the key is for', [{ path: '/creator_id', message: 'is required for an admin' }]);
  }
  if (owner.owner !== actor.userId && !mayManageKeysOf(actor, owner.owner)) throw forbidden('create keys for another creator');
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const created = await repo.insertKey(deps.db, {
    creatorId: owner.owner, name: input.name ?? null, hash: hashKey(key), prefix: key.slice(0, SHOWN_PREFIX_LENGTH), createdBy: actor.userId,
  });
  return { ...created, key };
}

export async function listIngestKeys(deps: KeyDeps, actor: Actor, page: PageRequest): Promise<Page<IngestKey>> {
  const owner = keyOwnerFor(actor, undefined);
  if ('error' in owner && owner.error === 'forbidden') throw forbidden('list ingest keys');
  return repo.listKeys(deps.db, 'owner' in owner ? owner.owner : undefined, page);
}

export async function revokeIngestKey(deps: KeyDeps, actor: Actor, id: string): Promise<IngestKey> {
  const owner = keyOwnerFor(actor, undefined);
  if ('error' in owner && owner.error === 'forbidden') throw forbidden('revoke ingest keys');
  const found = await repo.findById(deps.db, id);
  if (!found || !mayManageKeysOf(actor, found.creator_id)) throw notFound('ingest key', id);
  const row = await repo.revokeKey(deps.db, id, actor.userId);
  deps.keyCache.dropKey(id);
  return repo.toKey(row ?? found);
}

/** The holder of `key`, or an AUTH problem: unknown, malformed or revoked keys are all 401. */
export async function checkIngestKey(deps: KeyDeps, key: string): Promise<KeyHolder> {
  const refused = () => new DomainError('unauthorized', 'AUTH.INVALID_INGEST_KEY', 'the x-nedlia-key is unknown or revoked');
  if (!looksLikeKey(key)) throw refused();
  const hash = hashKey(key);
  let holder = deps.keyCache.get(hash);
  if (holder === undefined) {
    const row = await repo.findByHash(deps.db, hash);
    holder = row && row.revoked_at === null ? { keyId: row.id, creatorId: row.creator_id } : null;
    deps.keyCache.set(hash, holder);
  }
  if (!holder) throw refused();
  return holder;
}
