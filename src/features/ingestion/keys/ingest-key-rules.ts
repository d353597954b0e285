/**
 * Ingest keys, pure: their form and who may manage them. A key is publishable (it
 * ships inside the SDK of a creator's player) and admits only events for that
 * creator's videos; it is shown once at creation and stored as its SHA-256 hash.
 */
import { isAdmin, isCreator, type Actor } from '../../../platform/auth/actor.js';

export const KEY_PREFIX = 'nlk_';
/** `nlk_` and 43 base64url characters (32 random bytes). */
export const KEY_PATTERN = /^nlk_[A-Za-z0-9_-]{43}$/;
/** How much of a key lists show, to tell keys apart. */
export const SHOWN_PREFIX_LENGTH = 12;

export const looksLikeKey = (value: string): boolean => KEY_PATTERN.test(value);

/** The creator whose keys `actor` manages: its own for a creator, the named one for an admin; undefined = not allowed. */
export function keyOwnerFor(actor: Actor, requested: string | undefined): { owner: string } | { error: 'forbidden' | 'creator_required' } {
  if (isAdmin(actor)) return requested ? { owner: requested } : { error: 'creator_required' };
  if (isCreator(actor)) return { owner: requested ?? actor.userId };
  return { error: 'forbidden' };
}

/** Whether `actor` may list or revoke the keys of `creatorId`. */
export const mayManageKeysOf = (actor: Actor, creatorId: string): boolean => isAdmin(actor) || (isCreator(actor) && actor.userId === creatorId);
